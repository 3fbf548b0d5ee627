import Foundation

/// Generated weeks of tickets and staffing, worked by a simulated desk, and the forecast run as
/// the service would run it alongside: how far its predictions are from what happened, and how
/// well its at-risk signal finds the breaches in time.
///
/// The desk works the queue in the forecast's own order (severity, then due), each ticket taking
/// its severity's true mean times a lognormal factor the forecast does not know; staffing follows
/// the schedule, plus changes the forecast learns only when they happen. The forecast learns the
/// service times from the answers so far (`ServiceRateEstimator`, starting from the defaults),
/// and runs at every minute in which something changed: a ticket came, an agent picked one up or
/// answered, the staffing changed.
public struct ForecastBacktest: Sendable {
    public struct Scenario: Sendable {
        public var name: String
        public var start: Date
        public var days: Int
        public var policy: SLAPolicy
        public var schedule: StaffingSchedule
        /// Unannounced changes: applied to the desk, told to the forecast at their `from`.
        public var changes: [StaffingSchedule.Adjustment]
        /// Tickets per open hour, by day index (missing: `baseRate`), and surges (extra per hour).
        public var baseRate: Double
        public var dayRates: [Int: Double]
        public var surges: [(from: Date, until: Date, perHour: Double)]
        public var trueService: ServiceTimes
        public var noise: Double
        public var seed: UInt64
    }

    public struct Result: Sendable {
        public var tickets = 0
        public var breached = 0
        /// Breached tickets flagged at risk at least an hour before their due instant.
        public var breachedFlaggedEarly = 0
        public var flagged = 0
        public var flaggedAndBreached = 0
        public var forecasts = 0
        /// |prediction at arrival − actual response| in business seconds (a night between them
        /// does not count), sorted.
        public var errors = [Double]()

        public var recall: Double { breached == 0 ? 1 : Double(breachedFlaggedEarly) / Double(breached) }
        public var precision: Double { flagged == 0 ? 1 : Double(flaggedAndBreached) / Double(flagged) }
        public func errorPercentile(_ p: Double) -> Double {
            errors.isEmpty ? 0 : errors[min(errors.count - 1, Int((Double(errors.count - 1) * p).rounded()))]
        }
    }

    /// Two weeks from Monday 2 March 2026 in Denver: DST begins on the first Sunday, Friday 13
    /// March is a holiday; three agents on weekdays 09:00–17:00 and a fourth 10:00–15:00; a
    /// quiet Monday, surges on the first Wednesday afternoon and the second Thursday morning, and
    /// two staff members who go home at 13:00 on the second Tuesday.
    public static func standardScenario(seed: UInt64 = 27) -> Scenario {
        let holiday = LocalDate(year: 2026, month: 3, day: 13)!
        let calendar = try! BusinessCalendar(
            timeZone: "America/Denver", windows: [OpeningWindow(start: 9 * 3600, end: 17 * 3600)!],
            days: [.mon, .tue, .wed, .thu, .fri], holidays: [holiday])
        var policy = SLAPolicy.standard
        policy.calendar = calendar
        let weekdays: Set<Weekday> = [.mon, .tue, .wed, .thu, .fri]
        let schedule = try! StaffingSchedule(
            timeZone: "America/Denver",
            shifts: [.init(days: weekdays, start: 9 * 3600, end: 17 * 3600, agents: 3),
                     .init(days: weekdays, start: 10 * 3600, end: 15 * 3600, agents: 1)],
            holidays: [holiday])
        func local(_ text: String) -> Date { ISO8601.parse(text)! }
        return Scenario(
            name: "two weeks, DST, a holiday, a surge, a sick afternoon",
            start: local("2026-03-02T07:00:00Z"), days: 14, policy: policy, schedule: schedule,
            changes: [.init(from: local("2026-03-10T19:00:00Z"), delta: -2)],  // Tue 10 March 13:00 MDT
            baseRate: 7, dayRates: [0: 3.0],
            surges: [(local("2026-03-04T19:00:00Z"), local("2026-03-04T22:00:00Z"), 12.0),  // Wed 12:00–15:00 MST
                     (local("2026-03-12T15:00:00Z"), local("2026-03-12T18:00:00Z"), 6.0)],  // Thu 09:00–12:00 MDT
            trueService: ServiceTimes(critical: 900, major: 1_500, minor: 2_100), noise: 0.35, seed: seed)
    }

    private struct Ticket {
        var id: TicketID
        var severity: Severity
        var arrived: Int64
        var due: Int64
        var work: Int64
        var picked: Int64 = .max
        var responded: Int64 = .max
        var predicted: Int64?
        var flaggedAt: Int64?
    }

    public static func run(_ scenario: Scenario) -> Result {
        var random = SeededRandom(seed: scenario.seed)
        let calendar = scenario.policy.calendar
        let start = scenario.start.epochSeconds
        let end = start + Int64(scenario.days) * 86_400
        // Arrivals: a Poisson process whose rate follows the open hours, quiet days and surges
        // (and a few at night), drawn by thinning a process at the highest rate.
        func rate(at time: Int64) -> Double {
            let date = Date(epochSeconds: time)
            let day = Int((time - start) / 86_400)
            var rate = calendar.isOpen(at: date) ? scenario.dayRates[day] ?? scenario.baseRate : 0.15
            for surge in scenario.surges where date >= surge.from && date < surge.until { rate += surge.perHour }
            return rate
        }
        let highest = max(scenario.baseRate, scenario.dayRates.values.max() ?? 0) + (scenario.surges.map(\.perHour).max() ?? 0)
        var tickets = [Ticket]()
        var time = start
        var number = 0
        while true {
            time += Int64((-log(1 - random.unit()) / highest * 3600).rounded(.up))
            guard time < end else { break }
            let accept = random.unit() < rate(at: time) / highest
            let roll = random.unit()
            let noise = exp(scenario.noise * random.normal() - scenario.noise * scenario.noise / 2)
            guard accept else { continue }
            let severity: Severity = roll < 0.15 ? .critical : roll < 0.5 ? .major : .minor
            let arrived = Date(epochSeconds: time)
            number += 1
            tickets.append(Ticket(
                id: TicketID(source: "backtest", externalId: "B-\(number)"), severity: severity, arrived: time,
                due: scenario.policy.firstResponseDue(severity: severity, openedAt: arrived).epochSeconds,
                work: max(60, Int64((scenario.trueService.of(severity) * noise).rounded()))))
        }
        // The desk, minute by minute; the forecast whenever something changed.
        var actual = scenario.schedule
        actual.adjustments = scenario.changes
        let desk = actual.capacity(from: scenario.start, horizon: .seconds(Int64(scenario.days + 14) * 86_400))
        var known = scenario.schedule
        var estimator = ServiceRateEstimator()
        var busy = [Int64](repeating: .min, count: max(desk.peak, 1))  // agent k busy until
        var working = [Int?](repeating: nil, count: busy.count)         // the ticket agent k works on
        var waiting = [Int]()
        var next = 0
        var result = Result()
        var clock = start
        let horizonEnd = end + 14 * 86_400
        while clock < horizonEnd {
            var changed = false
            // Answers given this minute.
            for k in busy.indices where working[k] != nil && busy[k] <= clock {
                let index = working[k]!
                estimator.observe(.init(severity: tickets[index].severity, at: Date(epochSeconds: busy[k]),
                                        seconds: Double(tickets[index].work)))
                working[k] = nil
                changed = true
            }
            // Arrivals, and staffing changes the forecast now learns of.
            while next < tickets.count, tickets[next].arrived <= clock {
                waiting.append(next)
                next += 1
                changed = true
            }
            for change in scenario.changes where change.from.epochSeconds > clock - 60 && change.from.epochSeconds <= clock {
                known.adjustments.append(change)
                changed = true
            }
            // Agents on shift and free pick up the top of the queue.
            let onShift = desk.agents(at: Date(epochSeconds: clock))
            waiting.sort { QueuedTicket.precedes(queued(tickets[$0]), queued(tickets[$1])) }
            for k in 0..<min(onShift, busy.count) where working[k] == nil && !waiting.isEmpty {
                let index = waiting.removeFirst()
                tickets[index].picked = clock
                tickets[index].responded = clock + tickets[index].work
                busy[k] = tickets[index].responded
                working[k] = index
                changed = true
            }
            if changed, !waiting.isEmpty {
                let service = estimator.estimate(now: Date(epochSeconds: clock))
                let busyUntil = busy.indices.compactMap { k -> Date? in
                    guard let index = working[k] else { return nil }
                    return Date(epochSeconds: max(clock, tickets[index].picked + Int64(service.of(tickets[index].severity))))
                }
                let capacity = known.capacity(from: Date(epochSeconds: clock))
                let predictions = QueueForecast.predict(waiting.map { queued(tickets[$0]) }, capacity: capacity, service: service,
                                                        now: Date(epochSeconds: clock), busyUntil: busyUntil)
                result.forecasts += 1
                var byId = [TicketID: Prediction]()
                for prediction in predictions { byId[prediction.ticketId] = prediction }
                for index in waiting {
                    guard let prediction = byId[tickets[index].id] else { continue }
                    if tickets[index].predicted == nil { tickets[index].predicted = prediction.respondAt.epochSeconds }
                    if prediction.atRisk, tickets[index].flaggedAt == nil { tickets[index].flaggedAt = clock }
                }
            }
            if next >= tickets.count, waiting.isEmpty, working.allSatisfy({ $0 == nil }) { break }
            clock += 60
        }
        for ticket in tickets where ticket.responded != .max {
            result.tickets += 1
            let breached = ticket.responded > ticket.due
            if breached { result.breached += 1 }
            if let flagged = ticket.flaggedAt {
                result.flagged += 1
                if breached { result.flaggedAndBreached += 1 }
                if breached, flagged <= ticket.due - 3600 || flagged <= ticket.arrived + 60 { result.breachedFlaggedEarly += 1 }
            }
            if let predicted = ticket.predicted {
                let (a, b) = (Date(epochSeconds: min(predicted, ticket.responded)), Date(epochSeconds: max(predicted, ticket.responded)))
                result.errors.append(Double(calendar.businessElapsed(from: a, to: b).components.seconds))
            }
        }
        result.errors.sort()
        return result
    }

    private static func queued(_ ticket: Ticket) -> QueuedTicket {
        QueuedTicket(ticketId: ticket.id, severity: ticket.severity, dueAt: Date(epochSeconds: ticket.due))
    }
}

/// SplitMix64, with uniform and normal draws: seeded runs (the backtest, the benchmarks) are the
/// same every time.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u = max(unit(), 1e-12), v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
