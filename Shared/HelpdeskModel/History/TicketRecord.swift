import Foundation

/// What became of a ticket at the door: still only received, a support ticket with a
/// classification, routed to documentation, or rejected at intake.
public enum TicketDisposition: String, WireEnum, Comparable {
    case received, support, documentation, rejected

    /// Later dispositions win whatever order their topics are read in: a rejection or a route
    /// to documentation is final, a classification outranks the bare receipt.
    var rank: Int {
        switch self {
        case .received: 0
        case .support: 1
        case .documentation: 2
        case .rejected: 3
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// Where a ticket's first-response clock stands.
public enum ClockState: String, WireEnum {
    case none, running, met, breached, stopped
}

/// One ticket's current state in the history store, folded from its events.
///
/// The fold is the same whatever order the topics are read in: every field comes from one
/// topic, whose records for a ticket sit in one partition and arrive in order, and where two
/// topics speak of the same thing (the disposition, the severity, the assignee, the time the
/// ticket opened) the rule that combines them does not depend on which came first. So a store
/// built by replaying the topics equals the store built live, row for row.
public struct TicketRecord: Sendable, Equatable, Codable {
    public var ticketId: String
    public var source: String
    public var externalId: String
    public var organizationId: String?
    public var subject: String?
    public var requesterEmail: String?
    public var openedAt: Date?
    public var disposition: TicketDisposition = .received
    public var reportedSeverity: Severity?
    /// The classifier's verdict and its confidence.
    public var classifiedSeverity: Severity?
    public var confidence: Double?
    /// The policy criteria the classifier's signals met, each once, in its order ("; " between).
    public var classifierReasons: String?
    /// A person's re-prioritization (`ticket.severityChanged`): it wins over the classifier's.
    public var changedSeverity: Severity?
    public var severityChangedBy: String?
    /// The assignee the ticket was opened with, and the one a later `ticket.assigned` named.
    public var openedAssignee: String?
    public var assignedTo: String?
    public var status: TicketStatus?
    public var clock: ClockState = .none
    /// The severity the clock runs (or ran) under.
    public var clockSeverity: Severity?
    public var startedAt: Date?
    public var dueAt: Date?
    public var warnedAt: Date?
    public var respondedAt: Date?
    public var resolvedAt: Date?
    /// Business seconds from the clock's start to the first response.
    public var businessSecondsToRespond: Int?
    /// Business seconds from a breached deadline to the response.
    public var businessSecondsLate: Int?
    public var stopReason: String?
    public var escalation: EscalationState = .none
    public var escalationEngineer: String?
    /// The de-escalation conditions recorded in the current escalation round, in policy order.
    public var conditions: [DeEscalationCondition] = []
    /// The forecaster's first expectation of the first response (`sla.expected`): when it was
    /// made, the instant it expected, and whether the customer was told it.
    public var firstForecastAt: Date?
    public var expectedAt: Date?
    public var customerTold = false
    /// At-risk episodes so far, whether one is open, and when the first began.
    public var atRiskEpisodes = 0
    public var atRisk = false
    public var firstAtRiskAt: Date?
    public var lastEventAt: Date?
    public var eventCount: Int = 0

    public init(ticketId: String, source: String, externalId: String) {
        self.ticketId = ticketId
        self.source = source
        self.externalId = externalId
    }

    /// The severity in force: a person's over the classifier's.
    public var severity: Severity? { changedSeverity ?? classifiedSeverity }

    /// Who set the severity in force: the person's name, `classifier`, or nil.
    public var severitySetBy: String? {
        if changedSeverity != nil { return severityChangedBy ?? "agent" }
        return classifiedSeverity == nil ? nil : "classifier"
    }

    public var assignee: String? { assignedTo ?? openedAssignee }

    /// Whether the forecast says the running clock will breach: an at-risk state is open and no
    /// answer, breach or stop has ended the clock (which the forecaster does not clear).
    public var isAtRisk: Bool { atRisk && clock == .running && respondedAt == nil }

    /// A ticket still waiting for the desk: a support ticket (or one not yet classified) that is
    /// neither solved nor closed and whose clock was not stopped by a resolution.
    public var isOpen: Bool {
        guard disposition == .support || disposition == .received else { return false }
        if status?.isResolved == true || resolvedAt != nil || clock == .stopped { return false }
        return true
    }

    /// Applies one event of this ticket, read from its topic in offset order.
    public mutating func apply(_ fact: HistoryFact, at: Date) {
        eventCount += 1
        lastEventAt = max(lastEventAt ?? at, at)
        switch fact {
        // Where two topics carry the same field, `tickets.received` sets it when it has a value
        // and the other topic only fills it while empty: the result is the last value intake
        // gave, else the first the other gave, in whatever order the topics are read.
        case .received(let received):
            organizationId = received.organizationId
            subject = received.subject
            requesterEmail = received.requester?.email ?? requesterEmail
            reportedSeverity = received.reportedSeverity ?? reportedSeverity
            openedAt = Self.earlier(openedAt, received.openedAt)
            openedAssignee = received.assignee ?? openedAssignee
            disposition = max(disposition, .received)
        case .rejected(let rejected):
            organizationId = organizationId ?? rejected.organizationId
            disposition = max(disposition, .rejected)
        case .routedToDocs(let routed):
            subject = subject ?? routed.subject
            disposition = max(disposition, .documentation)
        case .classified(let classified):
            classifiedSeverity = classified.severity
            confidence = classified.confidence
            var criteria = [String]()
            for signal in classified.signals where !criteria.contains(signal.criterion) { criteria.append(signal.criterion) }
            classifierReasons = criteria.isEmpty ? nil : criteria.joined(separator: "; ")
            reportedSeverity = reportedSeverity ?? classified.reportedSeverity
            openedAt = Self.earlier(openedAt, classified.openedAt)
            openedAssignee = openedAssignee ?? classified.assignee
            requesterEmail = requesterEmail ?? classified.requesterEmail
            disposition = max(disposition, .support)
        case .severityChanged(let changed):
            changedSeverity = changed.severity
            severityChangedBy = changed.changedBy
        case .assigned(let assigned):
            assignedTo = assigned.assignee
        case .statusChanged(let changed):
            status = changed.status
        case .message:
            break
        case .slaStarted(let started):
            clock = .running
            clockSeverity = started.severity
            startedAt = started.startedAt
            dueAt = started.dueAt
        case .slaRecalculated(let recalculated):
            clockSeverity = recalculated.severity
            dueAt = recalculated.dueAt
        case .slaWarning:
            warnedAt = warnedAt ?? at
        case .slaMet(let met):
            clock = .met
            respondedAt = met.respondedAt
            businessSecondsToRespond = met.businessSecondsUsed
        case .slaBreached(let breached):
            clock = .breached
            clockSeverity = breached.severity
            dueAt = breached.dueAt
        case .slaStopped(let stopped):
            if clock == .running || clock == .none { clock = .stopped }
            stopReason = stopped.reason
        case .slaRespondedAfterBreach(let late):
            respondedAt = late.respondedAt
            businessSecondsLate = late.businessSecondsLate
            businessSecondsToRespond = late.businessSecondsUsed
        case .slaResolvedAfterBreach(let resolved):
            resolvedAt = resolved.resolvedAt
        case .slaMetric:
            // The further metrics are read from the timeline (`SLAMetricFact`), not this row.
            break
        case .slaExpected(let expected):
            // Once per ticket (its id is the ticket's): the first word is what the customer heard.
            expectedAt = expectedAt ?? expected.forecast.expectedAt
            firstForecastAt = firstForecastAt ?? at
            customerTold = customerTold || expected.customerTold
        case .slaAtRisk(let risk):
            // One topic, one partition per ticket: episodes arrive in order.
            atRiskEpisodes = max(atRiskEpisodes, risk.episode)
            atRisk = true
            firstAtRiskAt = Self.earlier(firstAtRiskAt, at)
        case .slaAtRiskCleared(let cleared):
            if cleared.episode >= atRiskEpisodes { atRisk = false }
        case .escalationRequested:
            // A new round starts clean, as in the escalation service's state machine.
            if escalation == .none || escalation == .deEscalated { conditions = [] }
            escalation = .requested
        case .escalationEvaluating(let evaluating):
            escalation = .evaluating
            escalationEngineer = evaluating.engineer
        case .escalationEscalated:
            escalation = .escalated
        case .escalationConditionRecorded(let recorded):
            if !conditions.contains(recorded.condition) { conditions = (conditions + [recorded.condition]).sorted() }
        case .escalationDeEscalated:
            escalation = .deEscalated
        case .escalationRefusal, .notificationDelivered, .other:
            break
        }
    }

    private static func earlier(_ a: Date?, _ b: Date) -> Date { a.map { min($0, b) } ?? b }
}
