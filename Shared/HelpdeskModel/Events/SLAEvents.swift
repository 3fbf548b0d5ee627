import Foundation

// Events on `sla.events`, written by the sla-timer.

public enum SLAMetric: String, WireEnum { case firstResponse }

public struct SLAStarted: EventPayload {
    public static let type = "sla.started"
    public var severity: Severity
    public var metric: SLAMetric
    public var startedAt: Date
    public var dueAt: Date

    public init(severity: Severity, metric: SLAMetric = .firstResponse, startedAt: Date, dueAt: Date) {
        self.severity = severity
        self.metric = metric
        self.startedAt = ISO8601.wholeSeconds(startedAt)
        self.dueAt = ISO8601.wholeSeconds(dueAt)
    }
}

public struct SLAWarning: EventPayload {
    public static let type = "sla.warning"
    public var metric: SLAMetric
    public var dueAt: Date
    public var remainingSeconds: Int

    public init(metric: SLAMetric = .firstResponse, dueAt: Date, remainingSeconds: Int) {
        self.metric = metric
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.remainingSeconds = remainingSeconds
    }
}

public struct SLABreached: EventPayload {
    public static let type = "sla.breached"
    public var metric: SLAMetric
    public var severity: Severity
    public var dueAt: Date

    public init(metric: SLAMetric = .firstResponse, severity: Severity, dueAt: Date) {
        self.metric = metric
        self.severity = severity
        self.dueAt = ISO8601.wholeSeconds(dueAt)
    }
}

public struct SLAMet: EventPayload {
    public static let type = "sla.met"
    public var metric: SLAMetric
    public var dueAt: Date
    public var respondedAt: Date
    public var businessSecondsUsed: Int

    public init(metric: SLAMetric = .firstResponse, dueAt: Date, respondedAt: Date, businessSecondsUsed: Int) {
        self.metric = metric
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.respondedAt = ISO8601.wholeSeconds(respondedAt)
        self.businessSecondsUsed = businessSecondsUsed
    }
}

public struct SLARecalculated: EventPayload {
    public static let type = "sla.recalculated"
    public var metric: SLAMetric
    public var oldSeverity: Severity
    public var severity: Severity
    public var dueAt: Date

    public init(metric: SLAMetric = .firstResponse, oldSeverity: Severity, severity: Severity, dueAt: Date) {
        self.metric = metric
        self.oldSeverity = oldSeverity
        self.severity = severity
        self.dueAt = ISO8601.wholeSeconds(dueAt)
    }
}

public struct SLAStopped: EventPayload {
    public static let type = "sla.stopped"
    public var metric: SLAMetric
    public var reason: String

    public init(metric: SLAMetric = .firstResponse, reason: String) {
        self.metric = metric
        self.reason = reason
    }
}

/// The first public agent response to a ticket whose deadline had already been breached: not
/// a second terminal event, the record of how late the answer came.
public struct SLARespondedAfterBreach: EventPayload {
    public static let type = "sla.respondedAfterBreach"
    public var metric: SLAMetric
    public var dueAt: Date
    public var respondedAt: Date
    /// Business time between the deadline and the response.
    public var businessSecondsLate: Int
    /// Business time from the clock's start to the response, as `sla.met` gives it; absent on
    /// records written before it was added.
    public var businessSecondsUsed: Int?

    public init(
        metric: SLAMetric = .firstResponse, dueAt: Date, respondedAt: Date, businessSecondsLate: Int,
        businessSecondsUsed: Int? = nil
    ) {
        self.metric = metric
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.respondedAt = ISO8601.wholeSeconds(respondedAt)
        self.businessSecondsLate = businessSecondsLate
        self.businessSecondsUsed = businessSecondsUsed
    }
}

/// A ticket resolved after its deadline was breached (with or without a response).
public struct SLAResolvedAfterBreach: EventPayload {
    public static let type = "sla.resolvedAfterBreach"
    public var metric: SLAMetric
    public var dueAt: Date
    public var resolvedAt: Date

    public init(metric: SLAMetric = .firstResponse, dueAt: Date, resolvedAt: Date) {
        self.metric = metric
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.resolvedAt = ISO8601.wholeSeconds(resolvedAt)
    }
}
