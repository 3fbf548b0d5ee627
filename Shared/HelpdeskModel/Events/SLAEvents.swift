import Foundation

// Events on `sla.events`, written by the sla-timer.

/// The clocks the sla-timer runs: the time to the first public agent reply; after each public
/// customer message, the time to the next reply; between public updates while a ticket is open;
/// and to the resolution.
public enum SLAMetric: String, WireEnum { case firstResponse, nextReply, periodicUpdate, resolution }

public struct SLAStarted: EventPayload {
    public static let type = "sla.started"
    public var severity: Severity
    /// The customer's support plan whose policy the clock runs under; absent: the default.
    public var plan: String?
    public var metric: SLAMetric
    /// Which instance of the metric: absent for the first response and the resolution; the
    /// cycle (`nextReply`) or period (`periodicUpdate`) number, from 1.
    public var instance: Int?
    public var startedAt: Date
    public var dueAt: Date

    public init(
        severity: Severity, metric: SLAMetric = .firstResponse, instance: Int? = nil, plan: String? = nil, startedAt: Date,
        dueAt: Date
    ) {
        self.instance = instance
        self.plan = plan
        self.severity = severity
        self.metric = metric
        self.startedAt = ISO8601.wholeSeconds(startedAt)
        self.dueAt = ISO8601.wholeSeconds(dueAt)
    }
}

public struct SLAWarning: EventPayload {
    public static let type = "sla.warning"
    public var metric: SLAMetric
    /// Which instance of the metric: absent for the first response and the resolution; the
    /// cycle (`nextReply`) or period (`periodicUpdate`) number, from 1.
    public var instance: Int?
    public var dueAt: Date
    public var remainingSeconds: Int

    public init(metric: SLAMetric = .firstResponse, instance: Int? = nil, dueAt: Date, remainingSeconds: Int) {
        self.instance = instance
        self.metric = metric
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.remainingSeconds = remainingSeconds
    }
}

public struct SLABreached: EventPayload {
    public static let type = "sla.breached"
    public var metric: SLAMetric
    /// Which instance of the metric: absent for the first response and the resolution; the
    /// cycle (`nextReply`) or period (`periodicUpdate`) number, from 1.
    public var instance: Int?
    public var severity: Severity
    /// The plan whose policy decides, among other things, whether the breach escalates.
    public var plan: String?
    public var dueAt: Date

    public init(metric: SLAMetric = .firstResponse, instance: Int? = nil, plan: String? = nil, severity: Severity, dueAt: Date) {
        self.instance = instance
        self.plan = plan
        self.metric = metric
        self.severity = severity
        self.dueAt = ISO8601.wholeSeconds(dueAt)
    }
}

public struct SLAMet: EventPayload {
    public static let type = "sla.met"
    public var metric: SLAMetric
    /// Which instance of the metric: absent for the first response and the resolution; the
    /// cycle (`nextReply`) or period (`periodicUpdate`) number, from 1.
    public var instance: Int?
    public var dueAt: Date
    /// The reply, update or resolution that met the target.
    public var respondedAt: Date
    /// Business time counted from the start (paused time excluded).
    public var businessSecondsUsed: Int

    public init(metric: SLAMetric = .firstResponse, instance: Int? = nil, dueAt: Date, respondedAt: Date, businessSecondsUsed: Int) {
        self.instance = instance
        self.metric = metric
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.respondedAt = ISO8601.wholeSeconds(respondedAt)
        self.businessSecondsUsed = businessSecondsUsed
    }
}

public struct SLARecalculated: EventPayload {
    public static let type = "sla.recalculated"
    public var metric: SLAMetric
    /// Which instance of the metric: absent for the first response and the resolution; the
    /// cycle (`nextReply`) or period (`periodicUpdate`) number, from 1.
    public var instance: Int?
    public var oldSeverity: Severity
    public var severity: Severity
    public var dueAt: Date

    public init(metric: SLAMetric = .firstResponse, instance: Int? = nil, oldSeverity: Severity, severity: Severity, dueAt: Date) {
        self.instance = instance
        self.metric = metric
        self.oldSeverity = oldSeverity
        self.severity = severity
        self.dueAt = ISO8601.wholeSeconds(dueAt)
    }
}

public struct SLAStopped: EventPayload {
    public static let type = "sla.stopped"
    public var metric: SLAMetric
    /// Which instance of the metric: absent for the first response and the resolution; the
    /// cycle (`nextReply`) or period (`periodicUpdate`) number, from 1.
    public var instance: Int?
    public var reason: String

    public init(metric: SLAMetric = .firstResponse, instance: Int? = nil, reason: String) {
        self.instance = instance
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

/// A clock stopped counting: the ticket went to a status its metric pauses in (waiting on the
/// customer). The event's `at` is when.
public struct SLAPaused: EventPayload {
    public static let type = "sla.paused"
    public var metric: SLAMetric
    public var instance: Int?
    public var status: TicketStatus
    /// Business time left to the target when the clock paused.
    public var remainingSeconds: Int

    public init(metric: SLAMetric, instance: Int? = nil, status: TicketStatus, remainingSeconds: Int) {
        self.metric = metric
        self.instance = instance
        self.status = status
        self.remainingSeconds = remainingSeconds
    }
}

/// A paused clock counts again, with its due instant recomputed: the paused time is added.
public struct SLAResumed: EventPayload {
    public static let type = "sla.resumed"
    public var metric: SLAMetric
    public var instance: Int?
    public var status: TicketStatus
    public var dueAt: Date
    /// Business time the clock has been paused in all, this pause included.
    public var pausedBusinessSeconds: Int

    public init(metric: SLAMetric, instance: Int? = nil, status: TicketStatus, dueAt: Date, pausedBusinessSeconds: Int) {
        self.metric = metric
        self.instance = instance
        self.status = status
        self.dueAt = ISO8601.wholeSeconds(dueAt)
        self.pausedBusinessSeconds = pausedBusinessSeconds
    }
}
