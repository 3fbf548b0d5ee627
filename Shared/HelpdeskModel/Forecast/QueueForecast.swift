import Foundation

/// A ticket waiting for its first response, as the forecast sees it.
public struct QueuedTicket: Sendable, Equatable {
    public var ticketId: TicketID
    public var severity: Severity
    public var dueAt: Date

    public init(ticketId: TicketID, severity: Severity, dueAt: Date) {
        self.ticketId = ticketId
        self.severity = severity
        self.dueAt = dueAt
    }

    /// The order the desk works the queue in: severity, then due instant (then id, for ties).
    static func precedes(_ a: QueuedTicket, _ b: QueuedTicket) -> Bool {
        if a.severity != b.severity { return a.severity.level < b.severity.level }
        if a.dueAt != b.dueAt { return a.dueAt < b.dueAt }
        return a.ticketId < b.ticketId
    }
}

/// Agent time from picking a ticket up to its first response, per severity, in seconds.
public struct ServiceTimes: Sendable, Equatable {
    public var seconds: [Severity: Double]

    public init(critical: Double, major: Double, minor: Double) {
        seconds = [.critical: critical, .major: major, .minor: minor]
    }

    /// Before enough history exists: 20, 30 and 40 minutes (docs/policy.md#workload-forecast).
    public static let standard = ServiceTimes(critical: 1_200, major: 1_800, minor: 2_400)

    public func of(_ severity: Severity) -> Double { seconds[severity] ?? 1_800 }

    func scaled(_ factor: Double) -> ServiceTimes {
        var copy = self
        for (severity, value) in seconds { copy.seconds[severity] = value * factor }
        return copy
    }
}

/// When a ticket's first response is expected, and why.
public struct Prediction: Sendable, Equatable {
    public var ticketId: TicketID
    /// When an agent is expected to pick it up.
    public var startAt: Date
    /// The expected first response: picked up, plus the severity's service time.
    public var respondAt: Date
    /// The band: the same queue with service times 0.6 and 1.6 times as long.
    public var earliest: Date
    public var latest: Date
    public var dueAt: Date
    /// Tickets ahead of it in the queue, and agents on shift when the forecast ran.
    public var ahead: Int
    public var agentsOnShift: Int
    /// No agent picks it up before the forecast's horizon: `startAt` is the horizon, and
    /// `respondAt` one service time after it (a lower bound).
    public var beyondHorizon: Bool

    /// How far into the pessimistic band a response must fall after the due instant to count
    /// as at risk: 0 the expected response, 1 the band's end (service times 1.6 times as long).
    /// Halfway, chosen on the backtest (docs/policy.md#workload-forecast): the expected response
    /// alone missed a fifth of the breaches an hour ahead; the band's end flagged twice as many
    /// tickets as breached.
    public static let riskPoint = 0.5

    /// The response at the risk point of the band.
    public var riskAt: Date { respondAt.addingTimeInterval(Self.riskPoint * latest.timeIntervalSince(respondAt)) }

    /// A breach is likely: the response at the risk point falls after the due instant.
    public var atRisk: Bool { riskAt > dueAt }
}

/// The open queue worked off in the order the desk works it, by the agents on shift: a
/// deterministic forecast of each ticket's first response.
///
/// The work ahead of a ticket is what the busy agents still have to do plus the service time
/// of every ticket before it in the queue. The agents on shift work it off together (agent
/// seconds: the schedule's agents over time); the ticket is picked up once the work ahead, less
/// what the other agents are still finishing when one becomes free (half a mean service time
/// each), is done, and at a moment someone is on shift. Its first response follows its own
/// service time later. So a ticket alone with an agent free is picked up at once; another agent
/// never makes a prediction later, and another ticket ahead never makes one earlier (both by
/// construction, and property-tested). One pass over the queue and the schedule.
public enum QueueForecast {
    public static let lowFactor = 0.6
    public static let highFactor = 1.6

    public static func predict(
        _ queue: [QueuedTicket], capacity: CapacitySteps, service: ServiceTimes, now: Date, busyUntil: [Date] = []
    ) -> [Prediction] {
        let ordered = queue.sorted(by: QueuedTicket.precedes)
        let expected = simulate(ordered, capacity: capacity, service: service, now: now, busyUntil: busyUntil)
        let low = simulate(ordered, capacity: capacity, service: service.scaled(lowFactor), now: now, busyUntil: busyUntil)
        let high = simulate(ordered, capacity: capacity, service: service.scaled(highFactor), now: now, busyUntil: busyUntil)
        let onShift = capacity.agents(at: now)
        return ordered.indices.map { index in
            prediction(ordered[index], ahead: index, expected: expected[index], low: low[index], high: high[index], onShift: onShift)
        }
    }

    /// The queue in the desk's order with the work ahead of each place, in each of the band's
    /// service times: what `predict(adding:…)` places new tickets in.
    public struct Ahead: Sendable {
        let ordered: [QueuedTicket]
        /// Per run (expected, low, high): the service times and `work[k]`, the agent seconds of
        /// `ordered[0..<k]`, summed in the order `simulate` sums them.
        let runs: [(service: ServiceTimes, work: [Double])]

        public init(_ queue: [QueuedTicket], service: ServiceTimes) {
            let ordered = queue.sorted(by: QueuedTicket.precedes)
            self.ordered = ordered
            runs = [service, service.scaled(lowFactor), service.scaled(highFactor)].map { service in
                var work = [0.0]
                work.reserveCapacity(ordered.count + 1)
                for ticket in ordered { work.append(work[work.count - 1] + service.of(ticket.severity)) }
                return (service, work)
            }
        }

        /// How many tickets of the queue precede `ticket`.
        func place(of ticket: QueuedTicket) -> Int {
            var (low, high) = (0, ordered.count)
            while low < high {
                let middle = (low + high) / 2
                if QueuedTicket.precedes(ordered[middle], ticket) { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    /// `ticket`'s prediction were it added to the queue: the same as `predict` over the queue and
    /// it, since only the tickets ahead of it bear on it, for a search and a walk of the schedule.
    public static func predict(adding ticket: QueuedTicket, to queue: Ahead, capacity: CapacitySteps, now: Date) -> Prediction {
        let place = queue.place(of: ticket)
        let runs = queue.runs.map { run in
            simulate([ticket], capacity: capacity, service: run.service, now: now, busyUntil: [], workAhead: run.work[place])[0]
        }
        return prediction(ticket, ahead: place, expected: runs[0], low: runs[1], high: runs[2], onShift: capacity.agents(at: now))
    }

    private static func prediction(
        _ ticket: QueuedTicket, ahead: Int, expected: (start: Int64, respond: Int64, beyond: Bool),
        low: (start: Int64, respond: Int64, beyond: Bool), high: (start: Int64, respond: Int64, beyond: Bool), onShift: Int
    ) -> Prediction {
        Prediction(
            ticketId: ticket.ticketId, startAt: Date(epochSeconds: expected.start), respondAt: Date(epochSeconds: expected.respond),
            earliest: Date(epochSeconds: min(low.respond, expected.respond)),
            // Past the horizon the pessimistic run stops at its end: the band ends no earlier than the expectation.
            latest: Date(epochSeconds: max(high.respond, expected.respond)), dueAt: ticket.dueAt, ahead: ahead, agentsOnShift: onShift,
            beyondHorizon: expected.beyond)
    }

    /// Start and response instants (epoch seconds) of each ticket of `ordered`, behind
    /// `workAhead` agent seconds of tickets before them.
    static func simulate(
        _ ordered: [QueuedTicket], capacity: CapacitySteps, service: ServiceTimes, now: Date, busyUntil: [Date],
        workAhead: Double = 0
    ) -> [(start: Int64, respond: Int64, beyond: Bool)] {
        let start = now.epochSeconds
        // Agents on shift at most in the coming day: how many finish in parallel.
        let day = capacity.steps.filter { $0.from < start + 86_400 }
        let parallel = max(capacity.agents(at: now), day.filter { $0.from >= start }.map(\.agents).max() ?? 0)
        let mean = Severity.allCases.map(service.of).reduce(0, +) / Double(Severity.allCases.count)
        let overlap = Double(max(0, parallel - 1)) * mean / 2
        var ahead = busyUntil.reduce(workAhead) { $0 + Double(max(0, $1.epochSeconds - start)) }
        // Walk the schedule from `now`: `done` agent-seconds by the start of step `index`.
        var index = max(0, (capacity.steps.lastIndex { $0.from <= start }) ?? 0)
        var from = max(start, capacity.steps.first?.from ?? start)
        var done = 0.0
        var result = [(start: Int64, respond: Int64, beyond: Bool)]()
        result.reserveCapacity(ordered.count)
        for ticket in ordered {
            let work = max(0, ahead - overlap)
            let own = service.of(ticket.severity)
            ahead += own
            // Forward to the first moment with someone on shift by which `work` is done.
            var begin: Int64?
            while index < capacity.steps.count {
                let agents = Double(capacity.steps[index].agents)
                let until = index + 1 < capacity.steps.count ? capacity.steps[index + 1].from : capacity.end
                if agents > 0, done + agents * Double(until - from) >= work {
                    begin = from + Int64(max(0, ((work - done) / agents).rounded(.up)))
                    break
                }
                done += agents * Double(max(0, until - from))
                index += 1
                from = until
            }
            guard let begin, begin < capacity.end else {
                // Picked up no earlier than the horizon: answered no earlier than one service time
                // after it, so that more work ahead never moves a response earlier across it.
                result.append((capacity.end, capacity.end + Int64(own.rounded()), true))
                continue
            }
            result.append((begin, begin + Int64(own.rounded()), false))
        }
        return result
    }
}
