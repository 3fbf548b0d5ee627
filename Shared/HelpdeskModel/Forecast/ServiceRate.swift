import Foundation

/// Agent time to a first response, learned from history: per severity, the median of the latest
/// observations within a sliding window (from the ticket's assignment, or its start, to its
/// first public agent reply, in business time). Until a severity has `minimumObservations`, the
/// default applies.
public struct ServiceRateEstimator: Sendable, Equatable {
    public struct Observation: Sendable, Equatable {
        public var severity: Severity
        public var agent: String?
        /// The ticket answered: a ticket observed again replaces its earlier observation.
        public var ticketId: TicketID?
        public var at: Date
        public var seconds: Double

        public init(severity: Severity, agent: String? = nil, ticketId: TicketID? = nil, at: Date, seconds: Double) {
            self.severity = severity
            self.agent = agent
            self.ticketId = ticketId
            self.at = at
            self.seconds = seconds
        }
    }

    public var window: Duration
    public var minimumObservations: Int
    public var defaults: ServiceTimes
    private(set) var observations: [Severity: [Observation]] = [:]
    /// At most this many per severity are kept (the latest).
    public static let keep = 2_000

    public init(window: Duration = .seconds(28 * 86_400), minimumObservations: Int = 20, defaults: ServiceTimes = .standard) {
        self.window = window
        self.minimumObservations = minimumObservations
        self.defaults = defaults
    }

    /// Records one first response; times of zero or less (replies before the assignment) are not service.
    public mutating func observe(_ observation: Observation) {
        guard observation.seconds > 0, observation.seconds.isFinite else { return }
        var list = observations[observation.severity, default: []]
        if let ticketId = observation.ticketId, let index = list.lastIndex(where: { $0.ticketId == ticketId }) {
            list[index] = observation
            observations[observation.severity] = list
            return
        }
        list.append(observation)
        if list.count > Self.keep { list.removeFirst(list.count - Self.keep) }
        observations[observation.severity] = list
    }

    /// The service times to forecast with at `now`: per severity, the median within the window,
    /// or the default where too few are known.
    public func estimate(now: Date) -> ServiceTimes {
        var times = defaults
        let since = now.addingTimeInterval(-TimeInterval(window.components.seconds))
        for severity in Severity.allCases {
            let recent = (observations[severity] ?? []).filter { $0.at >= since && $0.at <= now }.map(\.seconds).sorted()
            guard recent.count >= minimumObservations else { continue }
            let middle = recent.count / 2
            times.seconds[severity] = recent.count % 2 == 1 ? recent[middle] : (recent[middle - 1] + recent[middle]) / 2
        }
        return times
    }

    /// How many observations of a severity are inside the window at `now`.
    public func count(_ severity: Severity, now: Date) -> Int {
        let since = now.addingTimeInterval(-TimeInterval(window.components.seconds))
        return (observations[severity] ?? []).count { $0.at >= since && $0.at <= now }
    }
}

/// At most one open at-risk state per ticket: `sla.atRisk` when a forecast puts the response
/// after the due instant, `sla.atRiskCleared` when one no longer does.
public struct AtRiskTracker: Sendable, Equatable {
    public enum Transition: Sendable, Equatable {
        case atRisk(Prediction)
        case cleared(Prediction)
    }

    public private(set) var atRisk: Set<TicketID> = []

    public init() {}

    /// The transitions a new forecast makes; tickets no longer in it (answered, resolved) leave
    /// without one: their clock's own end closes the matter.
    public mutating func update(_ predictions: [Prediction]) -> [Transition] {
        var transitions = [Transition]()
        var now = Set<TicketID>()
        for prediction in predictions {
            if prediction.atRisk {
                now.insert(prediction.ticketId)
                if !atRisk.contains(prediction.ticketId) { transitions.append(.atRisk(prediction)) }
            } else if atRisk.contains(prediction.ticketId) {
                transitions.append(.cleared(prediction))
            }
        }
        atRisk = now
        return transitions
    }
}
