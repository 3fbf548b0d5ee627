import Foundation

/// A ticket waiting for its first response, as the forecaster knows it from the sla-timer's
/// changelog: running, or breached and still unanswered (it still takes an agent's time).
public struct WaitingTicket: Sendable, Equatable {
    public var ticketId: TicketID
    public var source: String
    public var externalId: String
    public var severity: Severity
    public var plan: String?
    public var startedAt: Date
    public var dueAt: Date
    public var requester: String?
    public var breached: Bool

    public init(
        ticketId: TicketID, source: String, externalId: String, severity: Severity, plan: String? = nil, startedAt: Date,
        dueAt: Date, requester: String? = nil, breached: Bool = false
    ) {
        self.ticketId = ticketId
        self.source = source
        self.externalId = externalId
        self.severity = severity
        self.plan = plan
        self.startedAt = startedAt
        self.dueAt = dueAt
        self.requester = requester
        self.breached = breached
    }

    /// The ticket a first-response clock is waiting on, or nil once it has its answer (or was
    /// resolved, or has not started).
    public init?(_ clock: FirstResponseClock) {
        guard clock.respondedAt == nil, clock.resolvedAt == nil, clock.phase == .running || clock.phase == .breached,
              let severity = clock.severity, let startedAt = clock.startedAt, let dueAt = clock.dueAt
        else { return nil }
        self.init(ticketId: clock.ticketId, source: clock.source, externalId: clock.externalId, severity: severity,
                  plan: clock.plan, startedAt: startedAt, dueAt: dueAt, requester: clock.requester,
                  breached: clock.phase == .breached)
    }
}

/// What the forecaster knows of the desk: the tickets waiting for a first response, the answers
/// it learns service times from, and the staffing (the policy's schedule and live shift
/// changes). Pure: the forecaster feeds it the sla-timer's changelog and `staffing.events`.
public struct ForecastDesk: Sendable {
    public let policy: SLAPolicy
    public private(set) var waiting: [TicketID: WaitingTicket] = [:]
    public private(set) var estimator: ServiceRateEstimator
    /// Live shift changes by event id (a redelivered change counts once).
    public private(set) var shiftChanges: [EventID: StaffingSchedule.Adjustment] = [:]
    /// Each agent's latest answer: an answer's service began no earlier than the agent's previous one.
    private var lastAnswer: [String: Date] = [:]
    private var unlearned: [Answer] = []
    /// Longer than this (business time) from pick-up to answer is not service time: the agent
    /// was away, or the ticket waited for something else.
    public static let longestService: Int64 = 4 * 3_600

    struct Answer {
        var ticketId: TicketID
        var severity: Severity
        var agent: String
        var startedAt: Date
        var respondedAt: Date
    }

    /// The policy's schedule, made once: live changes are laid over it.
    private let planned: StaffingSchedule

    public init(policy: SLAPolicy, estimator: ServiceRateEstimator = ServiceRateEstimator()) {
        self.policy = policy
        self.estimator = estimator
        planned = policy.staffingSchedule
    }

    /// A clock's latest state. Returns whether the queue changed.
    @discardableResult
    public mutating func apply(_ clock: FirstResponseClock) -> Bool {
        if let ticket = WaitingTicket(clock) {
            guard waiting[ticket.ticketId] != ticket else { return false }
            waiting[ticket.ticketId] = ticket
            return true
        }
        if let respondedAt = clock.respondedAt, let startedAt = clock.startedAt, let severity = clock.severity,
           let agent = clock.assignee {
            unlearned.append(Answer(ticketId: clock.ticketId, severity: severity, agent: agent, startedAt: startedAt,
                                    respondedAt: respondedAt))
        }
        return waiting.removeValue(forKey: clock.ticketId) != nil
    }

    /// Learns from the answers applied since the last call, in the order they were given (the
    /// changelog is read partition by partition): an assigned agent's answer took from the later
    /// of the ticket's start and the agent's previous answer, in business time.
    public mutating func learn(now: Date) {
        guard !unlearned.isEmpty else { return }
        let since = now.addingTimeInterval(-estimator.window.timeInterval)
        for answer in unlearned.sorted(by: { $0.respondedAt < $1.respondedAt }) where answer.respondedAt >= since {
            let begin = max(answer.startedAt, lastAnswer[answer.agent] ?? answer.startedAt)
            lastAnswer[answer.agent] = max(lastAnswer[answer.agent] ?? answer.respondedAt, answer.respondedAt)
            let seconds = policy.calendar.businessElapsed(from: begin, to: answer.respondedAt).components.seconds
            guard seconds <= Self.longestService else { continue }
            estimator.observe(.init(severity: answer.severity, agent: answer.agent, ticketId: answer.ticketId,
                                    at: answer.respondedAt, seconds: Double(seconds)))
        }
        unlearned.removeAll()
    }

    /// A shift change from `staffing.events`. Returns whether it was new.
    @discardableResult
    public mutating func apply(shift eventId: EventID, started: Bool, from: Date, until: Date?) -> Bool {
        guard shiftChanges[eventId] == nil else { return false }
        shiftChanges[eventId] = .init(from: from, until: until ?? planned.endOfLocalDay(from), delta: started ? 1 : -1)
        return true
    }

    /// Drops shift changes that ended before `now`.
    public mutating func forgetShifts(before now: Date) {
        shiftChanges = shiftChanges.filter { ($0.value.until ?? .distantFuture) > now }
    }

    /// The schedule with the live changes.
    public var schedule: StaffingSchedule {
        var schedule = planned
        schedule.adjustments = shiftChanges.values.sorted { ($0.from, $0.delta) < ($1.from, $1.delta) }
        return schedule
    }

    /// Every waiting ticket's prediction, in the order the desk works the queue.
    public func forecast(now: Date) -> [Prediction] {
        let (queue, capacity, service) = inputs(now: now)
        return QueueForecast.predict(queue, capacity: capacity, service: service, now: now)
    }

    /// What a ticket of each severity opened now, under `plan`'s policy, would be told: its
    /// prediction behind today's queue.
    public func outlook(now: Date, plan: String? = nil) -> [Severity: Prediction] {
        outlooks(now: now, plans: [plan])[plan] ?? [:]
    }

    /// `outlook(now:plan:)` for each of `plans` (nil: the default policy), on one reading of
    /// the queue, the staffing and the service times.
    public func outlooks(now: Date, plans: [String?]) -> [String?: [Severity: Prediction]] {
        let (queue, capacity, service) = inputs(now: now)
        let ahead = QueueForecast.Ahead(queue, service: service)
        var result = [String?: [Severity: Prediction]]()
        for plan in plans {
            let planPolicy = policy.forPlan(plan)
            var predictions = [Severity: Prediction]()
            for severity in Severity.allCases {
                let probe = QueuedTicket(ticketId: TicketID(source: "~outlook", externalId: severity.name), severity: severity,
                                         dueAt: planPolicy.firstResponseDue(severity: severity, openedAt: now))
                predictions[severity] = QueueForecast.predict(adding: probe, to: ahead, capacity: capacity, now: now)
            }
            result[plan] = predictions
        }
        return result
    }

    /// The queue, the agents on shift and the service times a forecast at `now` runs on.
    private func inputs(now: Date) -> (queue: [QueuedTicket], capacity: CapacitySteps, service: ServiceTimes) {
        (waiting.values.map { QueuedTicket(ticketId: $0.ticketId, severity: $0.severity, dueAt: $0.dueAt) },
         schedule.capacity(from: now), estimator.estimate(now: now))
    }
}

/// What the forecaster has said of each ticket, kept in `forecast.changelog` so that the active
/// instance's successor neither repeats nor forgets it: whether the customer's expectation went
/// out, the at-risk episodes, and the last prediction written (what the console shows).
public struct ForecastLedger: Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var expected = false
        public var episode = 0
        public var atRisk = false
        public var expectedAt: Date?
        public var latest: Date?

        public init() {}
    }

    /// One step's effects, for the forecaster to publish (events first, then the changelog).
    public enum Output: Sendable, Equatable {
        case expected(WaitingTicket, Prediction)
        case atRisk(WaitingTicket, Prediction, episode: Int)
        case cleared(WaitingTicket, Prediction, episode: Int)
    }

    public private(set) var entries: [TicketID: Entry] = [:]
    /// A ticket's prediction is written again when it moves by more than this.
    public static let predictionStep: TimeInterval = 300

    public init() {}

    /// A record of `forecast.changelog`: nil value, a deleted entry.
    public mutating func restore(key: String, value: [UInt8]?) {
        let ticketId = TicketID(rawValue: key)
        entries[ticketId] = value.flatMap { try? WireJSON.decode(Entry.self, from: $0) }
    }

    public static func changelogValue(_ entry: Entry) -> [UInt8] { (try? WireJSON.encode(entry)) ?? [] }

    /// The effects of a forecast over the waiting tickets at `now`, and the entries that changed
    /// (nil: delete, the ticket no longer waits). A ticket is at risk while its clock runs and
    /// the forecast says so; a breached one never is (its breach said it).
    public mutating func step(
        _ predictions: [Prediction], waiting: [TicketID: WaitingTicket], now: Date
    ) -> (outputs: [Output], changed: [TicketID: Entry?]) {
        var outputs = [Output]()
        var changed = [TicketID: Entry?]()
        for prediction in predictions {
            guard let ticket = waiting[prediction.ticketId] else { continue }
            let before = entries[ticket.ticketId]
            var entry = before ?? Entry()
            if !entry.expected {
                entry.expected = true
                outputs.append(.expected(ticket, prediction))
            }
            let risk = !ticket.breached && now < ticket.dueAt && prediction.atRisk
            if risk, !entry.atRisk {
                entry.episode += 1
                entry.atRisk = true
                outputs.append(.atRisk(ticket, prediction, episode: entry.episode))
            } else if !risk, entry.atRisk, !ticket.breached, now < ticket.dueAt {
                entry.atRisk = false
                outputs.append(.cleared(ticket, prediction, episode: entry.episode))
            }
            if entry.expectedAt.map({ abs($0.timeIntervalSince(prediction.respondAt)) > Self.predictionStep }) ?? true {
                entry.expectedAt = ISO8601.wholeSeconds(prediction.respondAt)
                entry.latest = ISO8601.wholeSeconds(prediction.latest)
            }
            if entry != before {
                entries[ticket.ticketId] = entry
                changed[ticket.ticketId] = entry
            }
        }
        for ticketId in entries.keys where waiting[ticketId] == nil {
            entries[ticketId] = nil
            changed[ticketId] = .some(nil)
        }
        return (outputs, changed)
    }
}

/// How the forecast speaks to people: the target and the expectation in words, in the
/// policy's zone.
public enum ForecastWording {
    /// `1 business hour`, `4 business hours`, `90 business minutes`.
    public static func target(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds % 3_600 == 0 { return seconds == 3_600 ? "1 business hour" : "\(seconds / 3_600) business hours" }
        let minutes = max(1, seconds / 60)
        return minutes == 1 ? "1 business minute" : "\(minutes) business minutes"
    }

    /// `10:40 MST` on the day of `now`, `Wed 2 Dec 10:40 MST` on another.
    public static func instant(_ date: Date, now: Date, zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = calendar.isDate(date, inSameDayAs: now) ? "HH:mm zzz" : "EEE d MMM HH:mm zzz"
        return formatter.string(from: date)
    }

    /// "within 1 business hour" when `expectedAt` keeps the promise, and the expectation when it
    /// does not: what a customer is told.
    public static func promise(target: Duration, expectedAt: Date, dueAt: Date, now: Date, zone: TimeZone) -> String {
        expectedAt <= dueAt ? "within \(Self.target(target))" : expectation(target: target, expectedAt: expectedAt, now: now, zone: zone)
    }

    /// "within 1 business hour; currently expected by 10:40 MST".
    public static func expectation(target: Duration, expectedAt: Date, now: Date, zone: TimeZone) -> String {
        "within \(Self.target(target)); currently expected by \(instant(expectedAt, now: now, zone: zone))"
    }
}

/// The desk at the last forecast, under `~desk` in `forecast.changelog`: what intake tells a
/// new ticket's reporter and what the console's board heads with.
public struct ForecastOutlook: Codable, Sendable, Equatable {
    public static let key = "~desk"

    /// A ticket of one severity opened when the forecast ran.
    public struct NewTicket: Codable, Sendable, Equatable {
        public var expectedAt: Date
        public var dueAt: Date
        /// The first-response target, in business seconds.
        public var targetSeconds: Int
        /// "within 1 business hour", and "; currently expected by 10:40 MST" when the forecast
        /// is later than the due instant.
        public var text: String

        public var onTarget: Bool { expectedAt <= dueAt }

        public init(expectedAt: Date, dueAt: Date, targetSeconds: Int, text: String) {
            self.expectedAt = ISO8601.wholeSeconds(expectedAt)
            self.dueAt = ISO8601.wholeSeconds(dueAt)
            self.targetSeconds = targetSeconds
            self.text = text
        }
    }

    public var at: Date
    public var waiting: Int
    public var atRisk: Int
    public var agentsOnShift: Int
    /// The service times forecast with, per severity name, in seconds.
    public var serviceSeconds: [String: Int]
    /// A ticket of each severity (by name) opened at `at` under the default policy.
    public var newTicket: [String: NewTicket]
    /// The same for each support plan with a policy of its own, by plan name.
    public var plans: [String: [String: NewTicket]]

    public init(
        at: Date, waiting: Int, atRisk: Int, agentsOnShift: Int, serviceSeconds: [String: Int], newTicket: [String: NewTicket],
        plans: [String: [String: NewTicket]] = [:]
    ) {
        self.at = ISO8601.wholeSeconds(at)
        self.waiting = waiting
        self.atRisk = atRisk
        self.agentsOnShift = agentsOnShift
        self.serviceSeconds = serviceSeconds
        self.newTicket = newTicket
        self.plans = plans
    }

    /// The outlook of `desk` at `now`, with `atRisk` tickets flagged.
    public init(_ desk: ForecastDesk, now: Date, atRisk: Int) {
        let service = desk.estimator.estimate(now: now)
        let plans = desk.policy.plans.keys.sorted()
        let outlooks = desk.outlooks(now: now, plans: [nil] + plans)
        func newTickets(plan: String?) -> [String: NewTicket] {
            let policy = desk.policy.forPlan(plan)
            return Dictionary(uniqueKeysWithValues: (outlooks[plan] ?? [:]).map { severity, prediction in
                let target = policy.target(for: severity).firstResponse
                return (severity.name, NewTicket(
                    expectedAt: prediction.respondAt, dueAt: prediction.dueAt, targetSeconds: Int(target.components.seconds),
                    text: ForecastWording.promise(target: target, expectedAt: prediction.respondAt, dueAt: prediction.dueAt,
                                                  now: now, zone: policy.calendar(for: severity).timeZone)))
            })
        }
        self.init(
            at: now, waiting: desk.waiting.count, atRisk: atRisk,
            agentsOnShift: outlooks[nil]?.values.first?.agentsOnShift ?? 0,
            serviceSeconds: Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0.name, Int(service.of($0).rounded())) }),
            newTicket: newTickets(plan: nil),
            plans: Dictionary(uniqueKeysWithValues: plans.map { ($0, newTickets(plan: $0)) }))
    }

    /// What a new ticket of `plan` would be told, per severity: the plan's own outlook, or the
    /// default policy's when the plan has no policy of its own.
    public func newTickets(plan: String?) -> [String: NewTicket] {
        plan.flatMap { plans[$0] } ?? newTicket
    }
}
