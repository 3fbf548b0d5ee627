import Foundation

// Events that intake and the classifier emit.

/// `tickets.received`: a normalized, eligible ticket.
public struct TicketReceived: EventPayload {
    public static let type = "ticket.received"
    public var organizationId: String
    public var subject: String
    public var description: String?
    public var requester: Requester?
    public var reportedSeverity: Severity?
    public var impact: Impact?
    public var category: TicketCategory?
    public var openedAt: Date
    public var receivedAt: Date
    public var assignee: String?
    /// The organization's support plan (intake's organizations file): it selects the policy.
    public var plan: String?

    public init(
        organizationId: String, subject: String, description: String?, requester: Requester?,
        reportedSeverity: Severity?, impact: Impact?, category: TicketCategory?, openedAt: Date, receivedAt: Date,
        assignee: String? = nil, plan: String? = nil
    ) {
        self.plan = plan
        self.assignee = assignee
        self.organizationId = organizationId
        self.subject = subject
        self.description = description
        self.requester = requester
        self.reportedSeverity = reportedSeverity
        self.impact = impact
        self.category = category
        self.openedAt = ISO8601.wholeSeconds(openedAt)
        self.receivedAt = ISO8601.wholeSeconds(receivedAt)
    }
}

/// `tickets.activity`: a normalized message on a ticket.
public struct TicketMessagePosted: EventPayload {
    public static let type = "ticket.message"
    public var author: Author
    public var isPublic: Bool
    public var body: String
    public var cc: [String]
    public var sentAt: Date

    enum CodingKeys: String, CodingKey {
        case author, isPublic = "public", body, cc, sentAt
    }

    public init(author: Author, isPublic: Bool, body: String, cc: [String], sentAt: Date) {
        self.author = author
        self.isPublic = isPublic
        self.body = body
        self.cc = cc
        self.sentAt = ISO8601.wholeSeconds(sentAt)
    }
}

/// `tickets.activity`: an agent re-prioritized the ticket.
public struct TicketSeverityChanged: EventPayload {
    public static let type = "ticket.severityChanged"
    public var severity: Severity
    public var changedBy: String?
    public var reason: String?
    public var changedAt: Date

    public init(severity: Severity, changedBy: String?, reason: String?, changedAt: Date) {
        self.severity = severity
        self.changedBy = changedBy
        self.reason = reason
        self.changedAt = ISO8601.wholeSeconds(changedAt)
    }
}

/// `tickets.activity`: the ticket was assigned to an agent: the `assignee` audience of its
/// notifications from then on.
public struct TicketAssigned: EventPayload {
    public static let type = "ticket.assigned"
    public var assignee: String
    public var assignedBy: String?
    public var assignedAt: Date

    public init(assignee: String, assignedBy: String?, assignedAt: Date) {
        self.assignee = assignee
        self.assignedBy = assignedBy
        self.assignedAt = ISO8601.wholeSeconds(assignedAt)
    }
}

/// `tickets.activity`: the ticket's status changed.
public struct TicketStatusChanged: EventPayload {
    public static let type = "ticket.statusChanged"
    public var status: TicketStatus
    public var changedAt: Date

    public init(status: TicketStatus, changedAt: Date) {
        self.status = status
        self.changedAt = ISO8601.wholeSeconds(changedAt)
    }
}

/// `tickets.rejected`: a ticket from an organization that is not entitled to support.
public struct TicketRejected: EventPayload {
    public static let type = "ticket.rejected"
    public enum Reason: String, WireEnum { case unknownOrganization, ineligiblePlan }
    public var organizationId: String
    public var reason: Reason
    public var message: String

    public init(organizationId: String, reason: Reason, message: String) {
        self.organizationId = organizationId
        self.reason = reason
        self.message = message
    }
}

/// One piece of evidence behind a classification.
public struct ClassificationSignal: Sendable, Equatable, Codable {
    public var signal: String
    public var criterion: String
    public var severity: Severity
    public var foundIn: String

    public init(signal: String, criterion: String, severity: Severity, foundIn: String) {
        self.signal = signal
        self.criterion = criterion
        self.severity = severity
        self.foundIn = foundIn
    }
}

/// `tickets.classified`.
public struct TicketClassified: EventPayload {
    public static let type = "ticket.classified"
    public var severity: Severity
    public var signals: [ClassificationSignal]
    public var confidence: Double
    public var reportedSeverity: Severity?
    public var disagreesWithReporter: Bool
    public var needsDedicatedContact: Bool
    public var openedAt: Date
    /// The agent the ticket was assigned to when it was opened, if any.
    public var assignee: String?
    /// The requester's e-mail address: who `customer` notifications go to.
    public var requesterEmail: String?
    /// The organization's support plan, as intake found it: the sla-timer runs the plan's policy.
    public var plan: String?
    /// The words that weighed most for the severity, beside the signals (absent when none did).
    public var words: [String]?

    public init(
        severity: Severity, signals: [ClassificationSignal], confidence: Double, reportedSeverity: Severity?,
        disagreesWithReporter: Bool, needsDedicatedContact: Bool, openedAt: Date, assignee: String? = nil,
        requesterEmail: String? = nil, plan: String? = nil, words: [String]? = nil
    ) {
        self.plan = plan
        self.words = words
        self.assignee = assignee
        self.requesterEmail = requesterEmail
        self.severity = severity
        self.signals = signals
        self.confidence = confidence
        self.reportedSeverity = reportedSeverity
        self.disagreesWithReporter = disagreesWithReporter
        self.needsDedicatedContact = needsDedicatedContact
        self.openedAt = ISO8601.wholeSeconds(openedAt)
    }
}

/// `docs.feedback`: a documentation error, which gets no SLA clock.
public struct TicketRoutedToDocs: EventPayload {
    public static let type = "ticket.routedToDocs"
    public var subject: String
    public var reason: String

    public init(subject: String, reason: String) {
        self.subject = subject
        self.reason = reason
    }
}
