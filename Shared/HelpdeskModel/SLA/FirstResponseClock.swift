import Foundation

/// One ticket's first-response clock: the pure state machine the sla-timer service runs.
///
/// Inputs may arrive in any order across topics (an agent can answer before the
/// classification is seen), so the clock remembers what it learned before it started.
/// Decisions use the inputs' own times (a reply sent before the deadline meets it even if it is
/// seen later), and the first outcome is final: exactly one of `sla.met`, `sla.breached` or
/// `sla.stopped`, however often inputs are redelivered.
public struct FirstResponseClock: Sendable, Equatable {
    public enum Phase: String, Sendable, Codable, CaseIterable { case waiting, running, met, breached, stopped }

    public let ticketId: TicketID
    public let source: String
    public let externalId: String
    public private(set) var phase: Phase = .waiting
    /// The severity in force: the classifier's from the start, a person's
    /// (`ticket.severityChanged`) from the time of the change on, whichever arrived first. After
    /// the outcome, the last one set, for reports.
    public private(set) var severity: Severity?
    public private(set) var warned = false
    /// The plan, as a number (`PlanNames`): two bytes in what would be padding, so a million
    /// clocks cost no more for knowing their plan.
    private var planCode: UInt16 = 0
    /// The customer's support plan (from `ticket.classified`) whose policy the clock runs
    /// under; nil: the default policy. The sla-timer sets only plans its policy names.
    public var plan: String? {
        get { PlanNames.name(planCode) }
        set { planCode = PlanNames.code(newValue) }
    }
    /// Who the ticket's `assignee` and `customer` notifications go to: the agent it is assigned
    /// to (`ticket.assigned`, or `assignee` when opened) and the requester's address.
    public var assignee: String?
    public var requester: String?
    /// Activity seen before the classification, in the order it came. The clock replays it once
    /// it starts, so the outcome is the same whether the classification came first or last.
    public private(set) var pending: [PendingActivity] = []
    /// More is not kept for a ticket that is never classified (a rejected one, say).
    public static let pendingLimit = 64

    public enum PendingActivity: Sendable, Equatable {
        case severityChanged(Severity, at: Date, eventId: EventID)
        case replied(at: Date)
        case resolved(at: Date)
    }
    // Instants as whole epoch seconds (they are kept to the second anyway): the sla-timer
    // holds a million clocks, and an optional Date takes twice the room.
    private var started = Instant.none
    private var due = Instant.none
    private var warning = Instant.none
    private var responded = Instant.none
    private var resolved = Instant.none

    public var startedAt: Date? {
        get { started.date }
        set { started = Instant(newValue) }
    }
    public var dueAt: Date? {
        get { due.date }
        set { due = Instant(newValue) }
    }
    public var warnAt: Date? {
        get { warning.date }
        set { warning = Instant(newValue) }
    }
    /// The first public agent message, even if it came after a breach or before the start.
    public var respondedAt: Date? {
        get { responded.date }
        set { responded = Instant(newValue) }
    }
    /// Resolved (solved/closed) before any response, and when.
    public var resolvedAt: Date? {
        get { resolved.date }
        set { resolved = Instant(newValue) }
    }

    public init(ticketId: TicketID, source: String, externalId: String) {
        self.ticketId = ticketId
        self.source = source
        self.externalId = externalId
    }

    public enum Input: Sendable, Equatable {
        case classified(severity: Severity, openedAt: Date, eventId: EventID)
        case agentReplied(at: Date)
        case severityChanged(to: Severity, at: Date, eventId: EventID)
        case resolved(at: Date, status: TicketStatus)
        /// Time has passed: fire what fell due up to `now`.
        case tick(now: Date)
    }

    public enum Output: Sendable, Equatable {
        case started(SLAStarted, cause: String)
        /// A warning, the instant it stands for and the severity it was fired under.
        case warning(SLAWarning, cause: String, at: Date, severity: Severity)
        case breached(SLABreached, cause: String)
        case met(SLAMet, cause: String)
        /// A re-prioritization, dated by the change.
        case recalculated(SLARecalculated, cause: String, at: Date)
        case stopped(SLAStopped, cause: String)
        case respondedAfterBreach(SLARespondedAfterBreach, cause: String)
        case resolvedAfterBreach(SLAResolvedAfterBreach, cause: String)
    }

    /// The next instant at which `tick` would produce something, for the timer queue.
    public var nextDeadline: Date? {
        guard phase == .running else { return nil }
        return warned ? dueAt : warnAt
    }

    public mutating func apply(_ input: Input, policy: SLAPolicy) -> [Output] {
        switch input {
        case .classified(let classified, let openedAt, let eventId):
            var outputs = [Output]()
            if phase == .waiting {
                severity = classified
                startedAt = openedAt
                schedule(policy)
                phase = .running
                outputs.append(.started(SLAStarted(severity: classified, plan: plan, startedAt: startedAt!, dueAt: dueAt!), cause: eventId.rawValue))
                // Noted for the status while waiting; the replay decides them, in order.
                respondedAt = nil
                resolvedAt = nil
            }
            // What happened before the classification was seen is decided now, by its own time.
            // (Replayed again after a restart that observed the start: decided once by the state.)
            let replay = pending
            pending = []
            for activity in replay { outputs += decide(activity, policy: policy) }
            return outputs
        case .agentReplied(let at):
            return activity(.replied(at: at), policy: policy)
        case .severityChanged(let newSeverity, let at, let eventId):
            return activity(.severityChanged(newSeverity, at: at, eventId: eventId), policy: policy)
        case .resolved(let at, _):
            return activity(.resolved(at: at), policy: policy)
        case .tick(let now):
            guard phase == .running else { return [] }
            return fire(upTo: ISO8601.wholeSeconds(now), policy: policy)
        }
    }

    private mutating func activity(_ activity: PendingActivity, policy: SLAPolicy) -> [Output] {
        guard phase == .waiting else { return decide(activity, policy: policy) }
        // Only the first reply and the first resolution can decide anything: later ones are not kept.
        switch activity {
        case .severityChanged(let newSeverity, _, _): severity = newSeverity
        case .replied(let at):
            guard respondedAt == nil else { return [] }
            respondedAt = at
        case .resolved(let at):
            guard resolvedAt == nil else { return [] }
            resolvedAt = at
        }
        pending.append(activity)
        // Past the limit (a ticket never classified), the oldest severity change goes: the latest wins anyway.
        if pending.count > Self.pendingLimit, let oldest = pending.firstIndex(where: {
            if case .severityChanged = $0 { true } else { false }
        }) {
            pending.remove(at: oldest)
        }
        return []
    }

    /// One piece of activity on a started clock.
    private mutating func decide(_ activity: PendingActivity, policy: SLAPolicy) -> [Output] {
        switch activity {
        case .replied(let at):
            guard respondedAt == nil else { return [] }
            respondedAt = at
            switch phase {
            case .running: return respond(at: at, policy: policy)
            case .breached: return respondedAfterBreach(policy: policy)
            default: return []
            }
        case .resolved(let at):
            guard resolvedAt == nil else { return [] }
            switch phase {
            case .running:
                resolvedAt = at
                return resolve(at: at)
            case .breached:
                resolvedAt = at
                return resolvedAfterBreach()
            default:
                // Answered in time, or already stopped: the resolution changes nothing.
                return []
            }
        case .severityChanged(let newSeverity, let at, let eventId):
            guard phase == .running else {
                // Decided: the change is only the severity the ticket ends with.
                severity = newSeverity
                return []
            }
            // A change to the severity in force changes nothing: no deadline fires early for it.
            guard let old = severity, newSeverity != old else { return [] }
            // A deadline that passed before the change was breached under the severity then in force.
            var outputs = fire(upTo: ISO8601.wholeSeconds(at), policy: policy)
            guard phase == .running else {
                severity = newSeverity
                return outputs
            }
            severity = newSeverity
            warned = false
            schedule(policy)
            outputs.append(.recalculated(SLARecalculated(oldSeverity: old, severity: newSeverity, dueAt: dueAt!),
                                         cause: eventId.rawValue, at: ISO8601.wholeSeconds(at)))
            // Recomputed from the original start: a deadline already past is a breach at once.
            outputs += fire(upTo: ISO8601.wholeSeconds(at), policy: policy)
            return outputs
        }
    }

    /// Learns from an event this clock's service published but whose state was not saved
    /// (the process died in between), so that handling the inputs again neither repeats it
    /// nor contradicts it: after a published breach, a late reply cannot produce `sla.met`.
    public mutating func observe(_ published: Output, policy: SLAPolicy) {
        switch published {
        case .started(let event, _):
            guard phase == .waiting else { return }
            severity = event.severity
            startedAt = event.startedAt
            schedule(policy, announcedDue: event.dueAt)
            phase = .running
            // As when it started: the replay of what came before decides replies and resolutions
            // (their own events, if published, are observed next and mark them decided).
            if !pending.isEmpty {
                respondedAt = nil
                resolvedAt = nil
            }
        case .warning(let event, _, _, _):
            if dueAt == event.dueAt { warned = true }
        case .recalculated(let event, _, _):
            guard phase == .running, severity != event.severity else { return }
            severity = event.severity
            warned = false
            schedule(policy, announcedDue: event.dueAt)
        case .respondedAfterBreach(let event, _):
            respondedAt = respondedAt ?? event.respondedAt
        case .resolvedAfterBreach(let event, _):
            resolvedAt = resolvedAt ?? event.resolvedAt
        case .breached(let event, _):
            guard phase == .running || phase == .waiting else { return }
            severity = severity ?? event.severity
            dueAt = event.dueAt
            phase = .breached
        case .met(let event, _):
            guard phase == .running || phase == .waiting else { return }
            dueAt = event.dueAt
            respondedAt = event.respondedAt
            phase = .met
        case .stopped:
            guard phase == .running || phase == .waiting else { return }
            phase = .stopped
        }
    }

    /// Computes the deadline and the warning under `policy`. A deadline already announced (an
    /// event this service published, learnt again after a restart) is kept as announced: a
    /// policy changed since applies to clocks started after it.
    private mutating func schedule(_ policy: SLAPolicy, announcedDue: Date? = nil) {
        guard let severity, let startedAt else { return }
        let due = announcedDue ?? policy.firstResponseDue(severity: severity, openedAt: startedAt)
        dueAt = due
        warnAt = min(policy.warningAt(severity: severity, openedAt: startedAt), due)
    }

    /// The warning and the breach that fell due at or before `now`.
    private mutating func fire(upTo now: Date, policy: SLAPolicy) -> [Output] {
        guard phase == .running, let dueAt, let warnAt, let severity else { return [] }
        var outputs = [Output]()
        if !warned, warnAt <= now, now < dueAt {
            warned = true
            let remaining = policy.calendar(for: severity).remaining(now: warnAt, due: dueAt).components.seconds
            outputs.append(.warning(SLAWarning(dueAt: dueAt, remainingSeconds: Int(remaining)),
                                    cause: "warning/\(ISO8601.format(dueAt))", at: warnAt, severity: severity))
        }
        if dueAt <= now {
            phase = .breached
            outputs.append(.breached(SLABreached(plan: plan, severity: severity, dueAt: dueAt), cause: "terminal"))
            // What was already seen after the deadline is recorded right after the breach.
            if respondedAt != nil { outputs += respondedAfterBreach(policy: policy) }
            if resolvedAt != nil { outputs += resolvedAfterBreach() }
        }
        return outputs
    }

    private func respondedAfterBreach(policy: SLAPolicy) -> [Output] {
        guard phase == .breached, let dueAt, let respondedAt else { return [] }
        let businessCalendar = calendar(policy)
        let late = businessCalendar.businessElapsed(from: dueAt, to: respondedAt).components.seconds
        let used = startedAt.map { businessCalendar.businessElapsed(from: $0, to: max(respondedAt, $0)).components.seconds }
        // A reply sent before the deadline but seen only after the breach fired (input later
        // than the late-input hold) is recorded as it was: 0 seconds late.
        return [.respondedAfterBreach(SLARespondedAfterBreach(dueAt: dueAt, respondedAt: respondedAt,
                                                              businessSecondsLate: Int(late), businessSecondsUsed: used.map { Int($0) }),
                                      cause: "respondedAfterBreach")]
    }

    /// The calendar of the severity in force.
    func calendar(_ policy: SLAPolicy) -> BusinessCalendar {
        severity.map(policy.calendar(for:)) ?? policy.calendar
    }

    private func resolvedAfterBreach() -> [Output] {
        guard phase == .breached, let dueAt, let resolvedAt else { return [] }
        return [.resolvedAfterBreach(SLAResolvedAfterBreach(dueAt: dueAt, resolvedAt: resolvedAt),
                                     cause: "resolvedAfterBreach")]
    }

    private mutating func respond(at time: Date, policy: SLAPolicy) -> [Output] {
        guard phase == .running, let dueAt, let startedAt else { return [] }
        // A response dated before the clock started (a client's clock, or a reply to an earlier
        // ticket with the same id) counts as given at the start, never before it.
        let time = max(time, startedAt)
        // A response after the due time is a breach that nobody has fired yet.
        if time >= dueAt { return fire(upTo: time, policy: policy) }
        phase = .met
        let used = calendar(policy).businessElapsed(from: startedAt, to: time).components.seconds
        return [.met(SLAMet(dueAt: dueAt, respondedAt: time, businessSecondsUsed: Int(used)), cause: "terminal")]
    }

    private mutating func resolve(at time: Date) -> [Output] {
        guard phase == .running, let dueAt else { return [] }
        guard time < dueAt else { return [] }
        phase = .stopped
        return [.stopped(SLAStopped(reason: "resolved before a first response"), cause: "stopped")]
    }
}

/// An optional instant to the second in eight bytes.
private struct Instant: Sendable, Equatable {
    private let seconds: Int64
    static let none = Instant(seconds: .min)

    private init(seconds: Int64) { self.seconds = seconds }

    init(_ date: Date?) {
        guard let date else {
            self = .none
            return
        }
        seconds = date.epochSeconds
    }

    var date: Date? { seconds == .min ? nil : Date(timeIntervalSince1970: TimeInterval(seconds)) }
}

/// A ticket's first-response clock as operators ask about it (`helpdesk sla status`,
/// `GET /v1/sla/{ticketId}`).
public struct SLAClockStatus: Sendable, Equatable, Codable {
    public var ticketId: TicketID
    public var source: String
    public var externalId: String
    public var metric: SLAMetric
    public var state: FirstResponseClock.Phase
    public var severity: Severity?
    public var startedAt: Date?
    public var dueAt: Date?
    public var warned: Bool
    /// Business time left until the deadline, while the clock runs.
    public var remainingBusinessSeconds: Int?
    public var respondedAt: Date?
    public var resolvedAt: Date?
    /// The support plan whose policy the clocks run under; absent: the default policy.
    public var plan: String?
    /// The latest instance of each metric beyond the first response, where the policy sets any.
    public var metrics: [SLAMetricStatus]?

    public init(_ clock: FirstResponseClock, metrics further: TicketMetrics? = nil, now: Date, policy: SLAPolicy) {
        let policy = policy.forPlan(clock.plan)
        plan = clock.plan
        ticketId = clock.ticketId
        source = clock.source
        externalId = clock.externalId
        metric = .firstResponse
        state = clock.phase
        severity = clock.severity
        startedAt = clock.startedAt
        dueAt = clock.dueAt
        warned = clock.warned
        respondedAt = clock.respondedAt
        resolvedAt = clock.resolvedAt
        if clock.phase == .running, let dueAt = clock.dueAt {
            remainingBusinessSeconds = Int(clock.calendar(policy).remaining(now: now, due: dueAt).components.seconds)
        }
        if let further, !further.clocks.isEmpty {
            metrics = further.clocks.map { SLAMetricStatus($0, now: now, policy: policy) }
        }
    }
}

/// One metric instance beyond the first response, as status reads show it.
public struct SLAMetricStatus: Sendable, Equatable, Codable {
    public var metric: SLAMetric
    /// The cycle or period number; absent for the resolution.
    public var instance: Int?
    public var state: MetricClock.Phase
    public var severity: Severity
    public var startedAt: Date
    /// While running (a paused clock has none until it resumes).
    public var dueAt: Date?
    public var warned: Bool
    public var pausedAt: Date?
    /// Business time left while running; while paused, what is left when it resumes.
    public var remainingBusinessSeconds: Int?

    public init(_ clock: MetricClock, now: Date, policy: SLAPolicy) {
        metric = clock.metric
        instance = clock.number
        state = clock.phase
        severity = clock.severity
        startedAt = clock.startedAt
        dueAt = clock.dueAt
        warned = clock.warned
        pausedAt = clock.pausedAt
        let calendar = policy.calendar(for: clock.severity)
        switch clock.phase {
        case .running:
            remainingBusinessSeconds = clock.dueAt.map { Int(calendar.remaining(now: now, due: $0).components.seconds) }
        case .paused:
            if let target = policy.target(for: clock.severity).metric(clock.metric) {
                let counted = clock.businessCounted(until: clock.pausedAt ?? now, calendar: calendar)
                remainingBusinessSeconds = Int(target.target.components.seconds - counted)
            }
        default:
            break
        }
    }
}

extension FirstResponseClock {
    /// The clock as the sla-timer writes it to its changelog: compact JSON, instants as
    /// ISO-8601, members sorted. Read back with `init(changelogValue:)`; restoring a partition
    /// parses one of these per ticket, so it goes through the project's own JSON parser.
    public var changelogValue: [UInt8] { JSONValue.object(changelogMembers).serialized() }

    /// The members of `changelogValue`, for a state that writes more beside the clock.
    public var changelogMembers: [String: JSONValue] {
        var members: [String: JSONValue] = [
            "ticketId": .string(ticketId.rawValue), "source": .string(source), "externalId": .string(externalId),
            "phase": .string(phase.rawValue), "warned": .bool(warned),
        ]
        if let severity { members["severity"] = .string(severity.name) }
        if !pending.isEmpty { members["pending"] = .string(pending.map(\.changelogText).joined(separator: ";")) }
        if let assignee { members["assignee"] = .string(assignee) }
        if let requester { members["requester"] = .string(requester) }
        if let plan { members["plan"] = .string(plan) }
        let instants: [(String, Date?)] = [
            ("startedAt", startedAt), ("dueAt", dueAt), ("warnAt", warnAt), ("respondedAt", respondedAt),
            ("resolvedAt", resolvedAt),
        ]
        for (name, instant) in instants {
            if let instant { members[name] = .string(ISO8601.format(instant)) }
        }
        return members
    }

    public init(changelogValue bytes: [UInt8]) throws(ChangelogValueError) {
        try self.init(changelogMembers: try Self.changelogMembers(bytes))
    }

    /// The members of a changelog value. What this type writes (a flat object of plain strings
    /// and booleans) is read by a direct scan; anything else goes through the full parser.
    public static func changelogMembers(_ bytes: [UInt8]) throws(ChangelogValueError) -> [String: JSONValue] {
        if let flat = FlatObject.scan(bytes) { return flat }
        if case .object(let parsed)? = try? JSONParser.parse(bytes) { return parsed }
        throw ChangelogValueError("not a JSON object")
    }

    public init(changelogMembers members: [String: JSONValue]) throws(ChangelogValueError) {
        func text(_ name: String) throws(ChangelogValueError) -> String? {
            switch members[name] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw ChangelogValueError("\(name) is not a string")
            }
        }
        func required(_ name: String) throws(ChangelogValueError) -> String {
            guard let value = try text(name) else { throw ChangelogValueError("\(name) is missing") }
            return value
        }
        func instant(_ name: String) throws(ChangelogValueError) -> Date? {
            guard let value = try text(name) else { return nil }
            guard let date = ISO8601.parse(value) else { throw ChangelogValueError("\(name) is not an instant") }
            return date
        }
        self.init(ticketId: TicketID(rawValue: try required("ticketId")), source: try required("source"),
                  externalId: try required("externalId"))
        guard let phase = Phase(rawValue: try required("phase")) else { throw ChangelogValueError("unknown phase") }
        self.phase = phase
        if let name = try text("severity") {
            guard let severity = Severity(parsing: name) else { throw ChangelogValueError("unknown severity \(name)") }
            self.severity = severity
        }
        if case .bool(let warned)? = members["warned"] { self.warned = warned }
        assignee = try text("assignee")
        requester = try text("requester")
        plan = try text("plan")
        if let text = try text("pending"), !text.isEmpty {
            pending = try text.split(separator: ";").map { entry throws(ChangelogValueError) in
                guard let activity = PendingActivity(changelogText: entry) else {
                    throw ChangelogValueError("unreadable pending activity \(entry.prefix(80))")
                }
                return activity
            }
        }
        startedAt = try instant("startedAt")
        dueAt = try instant("dueAt")
        warnAt = try instant("warnAt")
        respondedAt = try instant("respondedAt")
        resolvedAt = try instant("resolvedAt")
        if phase == .waiting, members["pending"] == nil {
            // Written by the release before `pending`: its reply and resolution, in its order of decision.
            pending = (respondedAt.map { [.replied(at: $0)] } ?? []) + (resolvedAt.map { [.resolved(at: $0)] } ?? [])
        }
    }
}

/// A scan of a flat JSON object whose members are strings without escapes or booleans,
/// without building a parse tree; nil for anything else.
enum FlatObject {
    static func scan(_ bytes: [UInt8]) -> [String: JSONValue]? {
        bytes.withUnsafeBufferPointer { b -> [String: JSONValue]? in
            var members = [String: JSONValue](minimumCapacity: 12)
            var i = 0
            func string() -> String? {
                guard i < b.count, b[i] == 0x22 else { return nil }
                let start = i + 1
                var end = start
                while end < b.count, b[end] != 0x22 {
                    if b[end] == 0x5C || b[end] < 0x20 { return nil }  // escapes: leave to the full parser
                    end += 1
                }
                guard end < b.count else { return nil }
                i = end + 1
                return String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
            }
            guard b.count >= 2, b[0] == 0x7B else { return nil }
            i = 1
            if b[i] == 0x7D { return i + 1 == b.count ? members : nil }
            while true {
                guard let key = string(), i < b.count, b[i] == 0x3A else { return nil }
                i += 1
                guard i < b.count else { return nil }
                let value: JSONValue
                if b[i] == 0x22 {
                    guard let text = string() else { return nil }
                    value = .string(text)
                } else if b.count - i >= 4, b[i] == 0x74, b[i + 1] == 0x72, b[i + 2] == 0x75, b[i + 3] == 0x65 {
                    value = .bool(true)
                    i += 4
                } else if b.count - i >= 5, b[i] == 0x66, b[i + 1] == 0x61, b[i + 2] == 0x6C, b[i + 3] == 0x73, b[i + 4] == 0x65 {
                    value = .bool(false)
                    i += 5
                } else {
                    return nil
                }
                // A repeated member is refused by the full parser, as everywhere else.
                guard members.updateValue(value, forKey: key) == nil else { return nil }
                guard i < b.count else { return nil }
                if b[i] == 0x2C {
                    i += 1
                    continue
                }
                guard b[i] == 0x7D, i + 1 == b.count else { return nil }
                return members
            }
        }
    }
}

public struct ChangelogValueError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = "unreadable clock state: " + description }
}

extension FirstResponseClock.PendingActivity {
    private static let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))

    /// `severity,<name>,<eventId>,<instant>`, `replied,<instant>` or `resolved,<instant>`.
    var changelogText: String {
        switch self {
        case .severityChanged(let severity, let at, let eventId):
            // Ids are uuids; any other text is percent-encoded, so no id can break the list.
            "severity,\(severity.name),\(eventId.rawValue.addingPercentEncoding(withAllowedCharacters: Self.plain) ?? ""),\(ISO8601.format(at))"
        case .replied(let at): "replied,\(ISO8601.format(at))"
        case .resolved(let at): "resolved,\(ISO8601.format(at))"
        }
    }

    init?(changelogText text: Substring) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first, parts.count) {
        case ("severity"?, 4):
            guard let severity = Severity(parsing: parts[1]), let id = parts[2].removingPercentEncoding,
                  let at = ISO8601.parse(parts[3]) else { return nil }
            self = .severityChanged(severity, at: at, eventId: EventID(rawValue: id))
        case ("replied"?, 2):
            guard let at = ISO8601.parse(parts[1]) else { return nil }
            self = .replied(at: at)
        case ("resolved"?, 2):
            guard let at = ISO8601.parse(parts[1]) else { return nil }
            self = .resolved(at: at)
        default:
            return nil
        }
    }
}
