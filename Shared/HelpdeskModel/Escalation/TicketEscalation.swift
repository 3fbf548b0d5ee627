import Foundation

/// One ticket as the escalation service keeps it: its identity, its severity once classified,
/// its escalation, and the causes it has applied most recently. This is the value of the
/// ticket's record in the compacted `escalation.changelog`, and what `GET
/// /v1/escalations/{ticketId}` is answered from.
public struct TicketEscalation: Sendable, Equatable, Codable {
    public var ticketId: TicketID
    public var source: String
    public var externalId: String
    /// The classifier's severity until a person sets one (`ticket.severityChanged`), which then
    /// holds whichever arrived first.
    public var severity: Severity?
    /// Whether `severity` was set by a person. Absent in state written before it existed.
    public var severitySetByPerson: Bool?
    /// Whether the ticket was classified: only supported tickets are escalated.
    public var classified: Bool?
    /// The agent the ticket is assigned to, and the requester's address (`customer` notifications).
    public var assignee: String?
    public var requester: String?
    /// Why the ticket gets no support, once intake rejected it or it went to documentation.
    public var unsupported: Unsupported?
    /// A request that came before the classification, held until it arrives (or the hold ends).
    public var held: HeldRequest?
    public var escalation: Escalation

    public struct Unsupported: Sendable, Equatable, Codable {
        public var reason: EscalationRequestRefused.Reason
        public var message: String
        public init(reason: EscalationRequestRefused.Reason, message: String) {
            self.reason = reason
            self.message = message
        }
    }

    public struct HeldRequest: Sendable, Equatable, Codable {
        public var by: EscalationActor
        public var via: EscalationChannel
        public var at: Date
        /// The request's cause (input event id or command id): the ids of what it becomes.
        public var cause: String
        public var expiresAt: Date
        public init(by: EscalationActor, via: EscalationChannel, at: Date, cause: String, expiresAt: Date) {
            self.by = by
            self.via = via
            self.at = at
            self.cause = cause
            self.expiresAt = expiresAt
        }
    }
    /// The causes (command ids, input event ids) of the latest events, oldest first. An input
    /// or command among them was applied already: its redelivery is not applied again.
    public private(set) var handled: [String]

    /// Enough to recognize any redelivery: a redelivered cause is at most one uncommitted
    /// batch old, and a ticket sees few escalation commands in that time.
    public static let handledLimit = 64

    public init(ticketId: TicketID, source: String, externalId: String, severity: Severity? = nil) {
        self.ticketId = ticketId
        self.source = source
        self.externalId = externalId
        self.severity = severity
        self.escalation = Escalation()
        self.handled = []
    }

    public func hasHandled(_ cause: String) -> Bool { handled.contains(cause) }

    /// Classified, so supported. State written before `classified` existed counts a severity
    /// that no person set as the classification's.
    public var isClassified: Bool { classified ?? (severity != nil && severitySetByPerson == nil) }

    public mutating func markHandled(_ cause: String) {
        guard !hasHandled(cause) else { return }
        handled.append(cause)
        if handled.count > Self.handledLimit { handled.removeFirst(handled.count - Self.handledLimit) }
    }
}

/// A ticket's escalation as the API shows it: state, conditions (recorded and missing) and the
/// full history.
public struct EscalationStatus: Sendable, Equatable, Codable {
    public var ticketId: TicketID
    public var source: String
    public var externalId: String
    public var severity: Severity?
    public var state: EscalationState
    public var requestedBy: String?
    public var via: EscalationChannel?
    public var engineer: String?
    public var conditions: [String: RecordedCondition]
    public var missingConditions: [DeEscalationCondition]
    public var history: [EscalationHistoryEntry]

    public init(_ ticket: TicketEscalation) {
        let escalation = ticket.escalation
        ticketId = ticket.ticketId
        source = ticket.source
        externalId = ticket.externalId
        severity = ticket.severity
        state = escalation.state
        requestedBy = escalation.requestedBy
        via = escalation.via
        engineer = escalation.engineer
        conditions = Dictionary(uniqueKeysWithValues: escalation.conditions.map { ($0.key.rawValue, $0.value) })
        missingConditions = escalation.missingConditions
        history = escalation.history
    }
}
