import Foundation

/// One ticket's first-response clock: the pure state machine the sla-timer service runs.
///
/// Inputs may arrive in any order across topics (an agent can answer before the
/// classification is seen), so the clock remembers what it learned before it started.
/// Decisions use the inputs' own times (a reply sent before the deadline meets it even if it is
/// seen later), and the first outcome is final: exactly one of `sla.met`, `sla.breached` or
/// `sla.stopped`, however often inputs are redelivered.
public struct FirstResponseClock: Sendable, Equatable, Codable {
    public enum Phase: String, Sendable, Codable { case waiting, running, met, breached, stopped }

    public let ticketId: TicketID
    public let source: String
    public let externalId: String
    public private(set) var phase: Phase = .waiting
    public private(set) var severity: Severity?
    public private(set) var startedAt: Date?
    public private(set) var dueAt: Date?
    public private(set) var warnAt: Date?
    public private(set) var warned = false
    /// The first public agent message, even if it came after a breach or before the start.
    public private(set) var respondedAt: Date?
    /// Resolved (solved/closed) before any response, and when.
    public private(set) var resolvedAt: Date?

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
        case warning(SLAWarning, cause: String)
        case breached(SLABreached, cause: String)
        case met(SLAMet, cause: String)
        case recalculated(SLARecalculated, cause: String)
        case stopped(SLAStopped, cause: String)
    }

    /// The next instant at which `tick` would produce something, for the timer queue.
    public var nextDeadline: Date? {
        guard phase == .running else { return nil }
        return warned ? dueAt : warnAt
    }

    public mutating func apply(_ input: Input, policy: SLAPolicy) -> [Output] {
        switch input {
        case .classified(let severity, let openedAt, let eventId):
            guard phase == .waiting else { return [] }
            self.severity = severity
            startedAt = ISO8601.wholeSeconds(openedAt)
            schedule(policy)
            phase = .running
            var outputs: [Output] = [.started(SLAStarted(severity: severity, startedAt: startedAt!, dueAt: dueAt!),
                                              cause: eventId.rawValue)]
            // What happened before the classification was seen is decided now, by its time.
            if let respondedAt { outputs += respond(at: respondedAt, policy: policy) }
            if phase == .running, let resolvedAt { outputs += resolve(at: resolvedAt) }
            return outputs
        case .agentReplied(let at):
            guard respondedAt == nil else { return [] }
            respondedAt = ISO8601.wholeSeconds(at)
            return phase == .running ? respond(at: respondedAt!, policy: policy) : []
        case .severityChanged(let newSeverity, let at, let eventId):
            guard phase == .running, let old = severity, newSeverity != old else {
                if phase == .waiting { severity = newSeverity }
                return []
            }
            severity = newSeverity
            warned = false
            schedule(policy)
            var outputs: [Output] = [.recalculated(SLARecalculated(oldSeverity: old, severity: newSeverity, dueAt: dueAt!),
                                                   cause: eventId.rawValue)]
            // Recomputed from the original start: a deadline already past is a breach at once.
            outputs += fire(upTo: ISO8601.wholeSeconds(at), policy: policy)
            return outputs
        case .resolved(let at, _):
            guard resolvedAt == nil, respondedAt == nil else { return [] }
            resolvedAt = ISO8601.wholeSeconds(at)
            return phase == .running ? resolve(at: resolvedAt!) : []
        case .tick(let now):
            guard phase == .running else { return [] }
            return fire(upTo: ISO8601.wholeSeconds(now), policy: policy)
        }
    }

    private mutating func schedule(_ policy: SLAPolicy) {
        guard let severity, let startedAt else { return }
        dueAt = policy.firstResponseDue(severity: severity, openedAt: startedAt)
        warnAt = policy.warningAt(severity: severity, openedAt: startedAt)
    }

    /// The warning and the breach that fell due at or before `now`.
    private mutating func fire(upTo now: Date, policy: SLAPolicy) -> [Output] {
        guard phase == .running, let dueAt, let warnAt, let severity else { return [] }
        var outputs = [Output]()
        if !warned, warnAt <= now, now < dueAt {
            warned = true
            let remaining = policy.calendar.remaining(now: warnAt, due: dueAt).components.seconds
            outputs.append(.warning(SLAWarning(dueAt: dueAt, remainingSeconds: Int(remaining)),
                                    cause: "warning/\(ISO8601.format(dueAt))"))
        }
        if dueAt <= now {
            phase = .breached
            outputs.append(.breached(SLABreached(severity: severity, dueAt: dueAt), cause: "terminal"))
        }
        return outputs
    }

    private mutating func respond(at time: Date, policy: SLAPolicy) -> [Output] {
        guard phase == .running, let dueAt, let startedAt else { return [] }
        // A response after the due time is a breach that nobody has fired yet.
        if time >= dueAt { return fire(upTo: time, policy: policy) }
        phase = .met
        let used = policy.calendar.businessElapsed(from: startedAt, to: time).components.seconds
        return [.met(SLAMet(dueAt: dueAt, respondedAt: time, businessSecondsUsed: Int(used)), cause: "terminal")]
    }

    private mutating func resolve(at time: Date) -> [Output] {
        guard phase == .running, let dueAt else { return [] }
        guard time < dueAt else { return [] }
        phase = .stopped
        return [.stopped(SLAStopped(reason: "resolved before a first response"), cause: "stopped")]
    }
}
