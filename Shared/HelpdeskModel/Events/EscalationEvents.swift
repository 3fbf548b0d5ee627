import Foundation

// Events on `escalation.events`, written by the escalation service, and `notifications`.

public enum EscalationChannel: String, WireEnum { case ccReply, api, slaBreach }
public enum DeEscalationCondition: String, WireEnum, Comparable {
    case actionPlanConfirmed, troubleshootingVerified, partiesAgreed
    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

public struct EscalationRequested: EventPayload {
    public static let type = "escalation.requested"
    public var by: String
    public var via: EscalationChannel
    public init(by: String, via: EscalationChannel) {
        self.by = by
        self.via = via
    }
}

public struct EscalationEvaluating: EventPayload {
    public static let type = "escalation.evaluating"
    public var engineer: String
    /// Who assigned the engineer.
    public var by: String
    public init(engineer: String, by: String) {
        self.engineer = engineer
        self.by = by
    }
}

public struct EscalationEscalated: EventPayload {
    public static let type = "escalation.escalated"
    public var by: String
    public init(by: String) { self.by = by }
}

public struct EscalationConditionRecorded: EventPayload {
    public static let type = "escalation.conditionRecorded"
    public var condition: DeEscalationCondition
    public var by: String
    public var note: String?
    public init(condition: DeEscalationCondition, by: String, note: String?) {
        self.condition = condition
        self.by = by
        self.note = note
    }
}

public struct EscalationDeEscalated: EventPayload {
    public static let type = "escalation.deEscalated"
    public var by: String
    public init(by: String) { self.by = by }
}

public struct EscalationDeEscalationRefused: EventPayload {
    public static let type = "escalation.deEscalationRefused"
    public var by: String
    public var missing: [DeEscalationCondition]
    public init(by: String, missing: [DeEscalationCondition]) {
        self.by = by
        self.missing = missing
    }
}

/// A command from the HTTP API that the ticket's owner refused (the state had moved on since
/// the API looked, or the command did not fit it); nothing changed.
public struct EscalationCommandRefused: EventPayload {
    public static let type = "escalation.commandRefused"
    public var command: String
    public var by: String
    public var reason: String
    public init(command: String, by: String, reason: String) {
        self.command = command
        self.by = by
        self.reason = reason
    }
}

/// A request for a ticket that gets no support: rejected at intake, routed to documentation,
/// or not classified within the hold. Nothing changed; the customer is told why.
public struct EscalationRequestRefused: EventPayload {
    public static let type = "escalation.requestRefused"
    public enum Reason: String, WireEnum { case rejected, documentation, notClassified }
    public var by: String
    public var via: EscalationChannel
    public var reason: Reason
    /// The sentence the customer is sent: the rejection's, or where the documentation form is.
    public var message: String
    public init(by: String, via: EscalationChannel, reason: Reason, message: String) {
        self.by = by
        self.via = via
        self.reason = reason
        self.message = message
    }
}

/// `notifications`: something a person should be told; the notifier delivers it.
public struct Notification: EventPayload {
    public static let type = "notification"
    public enum Audience: String, WireEnum, CaseIterable { case assignee, supportLead, escalationEngineer, management, customer }
    /// What happened, for routing (`kinds:` in the notifier's routes file).
    public enum Kind: String, WireEnum, CaseIterable {
        case slaWarning, slaBreached, documentationRouted, dedicatedContactNeeded, escalationRequested,
             escalationRefused, escalationAssigned, escalated, deEscalated,
             /// The forecaster's: a breach is likely (`sla.atRisk`); a customer's expected first response.
             slaAtRisk, responseExpected
    }
    public var audience: Audience
    /// Absent on records written before the notifier existed.
    public var kind: Kind?
    /// The person, when the audience is one named person (the assigned escalation engineer).
    public var recipient: String?
    public var severity: Severity?
    public var subject: String
    public var text: String
    public var causedBy: EventID

    public init(
        audience: Audience, kind: Kind?, recipient: String? = nil, severity: Severity?, subject: String, text: String,
        causedBy: EventID
    ) {
        self.audience = audience
        self.kind = kind
        self.recipient = recipient
        self.severity = severity
        self.subject = subject
        self.text = text
        self.causedBy = causedBy
    }
}
