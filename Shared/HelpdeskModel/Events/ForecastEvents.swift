import Foundation

// Events on `sla.forecast`, written by the forecaster, and on `staffing.events`, written by intake.

/// What a forecast says of one ticket's first response (docs/policy.md#workload-forecast).
public struct ResponseForecast: Codable, Sendable, Equatable {
    /// The expected first response.
    public var expectedAt: Date
    /// The band: the same queue with service times 0.6 and 1.6 times as long.
    public var earliest: Date
    public var latest: Date
    public var dueAt: Date
    /// Tickets ahead of it in the queue, and agents on shift when the forecast ran: the cause.
    public var ahead: Int
    public var agentsOnShift: Int

    public init(expectedAt: Date, earliest: Date, latest: Date, dueAt: Date, ahead: Int, agentsOnShift: Int) {
        self.expectedAt = ISO8601.wholeSeconds(expectedAt)
        self.earliest = ISO8601.wholeSeconds(earliest)
        self.latest = ISO8601.wholeSeconds(latest)
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.ahead = ahead
        self.agentsOnShift = agentsOnShift
    }

    public init(_ prediction: Prediction) {
        self.init(expectedAt: prediction.respondAt, earliest: prediction.earliest, latest: prediction.latest,
                  dueAt: prediction.dueAt, ahead: prediction.ahead, agentsOnShift: prediction.agentsOnShift)
    }
}

/// A type name for an event payload shared by two event types: the payload is one struct,
/// the kind says which event it is.
public protocol EventKind: Sendable {
    static var type: String { get }
}

/// An at-risk state opened or cleared: the same fields, two event types.
public struct SLARiskChange<Kind: EventKind>: EventPayload {
    public static var type: String { Kind.type }
    public var severity: Severity
    public var plan: String?
    public var episode: Int
    public var forecast: ResponseForecast

    public init(severity: Severity, plan: String?, episode: Int, forecast: ResponseForecast) {
        self.severity = severity
        self.plan = plan
        self.episode = episode
        self.forecast = forecast
    }
}

/// `sla.atRisk`: the forecast puts the ticket's first response after its due instant. At most
/// one at-risk state is open per ticket; `episode` counts them (1, 2, … when a ticket leaves
/// and re-enters risk).
public enum AtRiskOpened: EventKind { public static let type = "sla.atRisk" }
public typealias SLAAtRisk = SLARiskChange<AtRiskOpened>

/// `sla.atRiskCleared`: a forecast no longer puts the response after the due instant (an
/// agent came on shift, the queue ahead shrank). A ticket answered or breached while at risk
/// gets no clearing: its `sla.met` or `sla.breached` ends the matter.
public enum AtRiskCleared: EventKind { public static let type = "sla.atRiskCleared" }
public typealias SLAAtRiskCleared = SLARiskChange<AtRiskCleared>

/// `sla.expected`: the first forecast of a ticket's first response, once per ticket: what the
/// customer is told (`customerTold`: a `customer` notification went out because the expected
/// response falls after the target), and what reports compare with what happened.
public struct SLAExpected: EventPayload {
    public static let type = "sla.expected"
    public var severity: Severity
    public var plan: String?
    /// The target, in business seconds.
    public var targetSeconds: Int
    public var forecast: ResponseForecast
    /// "within 1 business hour; currently expected by 10:40 MST".
    public var text: String
    public var customerTold: Bool

    public init(
        severity: Severity, plan: String?, targetSeconds: Int, forecast: ResponseForecast, text: String, customerTold: Bool
    ) {
        self.severity = severity
        self.plan = plan
        self.targetSeconds = targetSeconds
        self.forecast = forecast
        self.text = text
        self.customerTold = customerTold
    }
}

/// A live change of the staffing on `staffing.events`, from `from` until `until` or the end of
/// that local day: the same fields, two event types.
public struct AgentShiftChange<Kind: EventKind>: EventPayload {
    public static var type: String { Kind.type }
    public var agent: String
    public var team: String?
    public var from: Date
    public var until: Date?

    public init(agent: String, team: String?, from: Date, until: Date?) {
        self.agent = agent
        self.team = team
        self.from = ISO8601.wholeSeconds(from)
        self.until = until.map(ISO8601.wholeSeconds)
    }
}

/// `agent.shiftStarted`: one agent more than the schedule says (a surge of staff, a shift
/// swapped in).
public enum ShiftStarted: EventKind { public static let type = "agent.shiftStarted" }
public typealias AgentShiftStarted = AgentShiftChange<ShiftStarted>

/// `agent.shiftEnded`: one agent fewer than the schedule says (gone home sick, called away).
public enum ShiftEnded: EventKind { public static let type = "agent.shiftEnded" }
public typealias AgentShiftEnded = AgentShiftChange<ShiftEnded>
