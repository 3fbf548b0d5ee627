import Foundation

public struct TicketOpened: Sendable, Equatable {
    public var source: String
    public var externalId: String
    public var organizationId: String
    public var subject: String
    public var description: String?
    public var requester: Requester?
    public var reportedSeverity: Severity?
    public var impact: Impact?
    public var category: TicketCategory?
    public var openedAt: Date?
    /// The agent the ticket is assigned to, when the producer knows at once.
    public var assignee: String?

    public init(
        source: String, externalId: String, organizationId: String, subject: String, description: String? = nil,
        requester: Requester? = nil, reportedSeverity: Severity? = nil, impact: Impact? = nil,
        category: TicketCategory? = nil, openedAt: Date? = nil, assignee: String? = nil
    ) {
        self.assignee = assignee
        self.source = source
        self.externalId = externalId
        self.organizationId = organizationId
        self.subject = subject
        self.description = description
        self.requester = requester
        self.reportedSeverity = reportedSeverity
        self.impact = impact
        self.category = category
        self.openedAt = openedAt
    }
}

public struct TicketMessage: Sendable, Equatable {
    public var source: String
    public var externalId: String
    public var author: Author
    public var isPublic: Bool
    public var body: String
    public var cc: [String]
    public var sentAt: Date?

    public init(
        source: String, externalId: String, author: Author, isPublic: Bool = true, body: String = "",
        cc: [String] = [], sentAt: Date? = nil
    ) {
        self.source = source
        self.externalId = externalId
        self.author = author
        self.isPublic = isPublic
        self.body = body
        self.cc = cc
        self.sentAt = sentAt
    }
}

public struct SeverityChange: Sendable, Equatable {
    public var source: String
    public var externalId: String
    public var severity: Severity
    public var changedBy: String?
    public var reason: String?
    public var changedAt: Date?

    public init(
        source: String, externalId: String, severity: Severity, changedBy: String? = nil, reason: String? = nil,
        changedAt: Date? = nil
    ) {
        self.source = source
        self.externalId = externalId
        self.severity = severity
        self.changedBy = changedBy
        self.reason = reason
        self.changedAt = changedAt
    }
}

/// The ticket was assigned to an agent (or reassigned).
public struct Assignment: Sendable, Equatable {
    public var source: String
    public var externalId: String
    public var assignee: String
    public var assignedBy: String?
    public var assignedAt: Date?

    public init(source: String, externalId: String, assignee: String, assignedBy: String? = nil, assignedAt: Date? = nil) {
        self.source = source
        self.externalId = externalId
        self.assignee = assignee
        self.assignedBy = assignedBy
        self.assignedAt = assignedAt
    }
}

public struct StatusChange: Sendable, Equatable {
    public var source: String
    public var externalId: String
    public var status: TicketStatus
    public var changedAt: Date?

    public init(source: String, externalId: String, status: TicketStatus, changedAt: Date? = nil) {
        self.source = source
        self.externalId = externalId
        self.status = status
        self.changedAt = changedAt
    }
}

/// An agent's shift departing from the staffing schedule (docs/events.md#staffing): one agent
/// more (`agent.shiftStarted`) or fewer (`agent.shiftEnded`) from `at` until `until`, or the end
/// of that local day. `source`/`externalId` name the change in the workforce system.
public struct ShiftChange: Sendable, Equatable {
    public var source: String
    public var externalId: String
    public var started: Bool
    public var agent: String
    public var team: String?
    public var at: Date?
    public var until: Date?

    public init(source: String, externalId: String, started: Bool, agent: String, team: String? = nil, at: Date? = nil,
                until: Date? = nil) {
        self.source = source
        self.externalId = externalId
        self.started = started
        self.agent = agent
        self.team = team
        self.at = at
        self.until = until
    }
}

/// Every message a producer may put on `tickets.inbound`.
public enum InboundMessage: Sendable, Equatable {
    case opened(TicketOpened)
    case message(TicketMessage)
    case severityChanged(SeverityChange)
    case statusChanged(StatusChange)
    case assigned(Assignment)
    /// Not about a ticket: staffing, for the workload forecast.
    case shift(ShiftChange)

    public enum Kind: String, WireEnum {
        case opened = "ticket.opened"
        case message = "ticket.message"
        case severityChanged = "ticket.severityChanged"
        case statusChanged = "ticket.statusChanged"
        case assigned = "ticket.assigned"
        case shiftStarted = "agent.shiftStarted"
        case shiftEnded = "agent.shiftEnded"
    }

    public var kind: Kind {
        switch self {
        case .opened: .opened
        case .message: .message
        case .severityChanged: .severityChanged
        case .statusChanged: .statusChanged
        case .assigned: .assigned
        case .shift(let m): m.started ? .shiftStarted : .shiftEnded
        }
    }

    public var source: String {
        switch self {
        case .opened(let m): m.source
        case .message(let m): m.source
        case .severityChanged(let m): m.source
        case .statusChanged(let m): m.source
        case .assigned(let m): m.source
        case .shift(let m): m.source
        }
    }

    public var externalId: String {
        switch self {
        case .opened(let m): m.externalId
        case .message(let m): m.externalId
        case .severityChanged(let m): m.externalId
        case .statusChanged(let m): m.externalId
        case .assigned(let m): m.externalId
        case .shift(let m): m.externalId
        }
    }

    public var ticketId: TicketID { TicketID(source: source, externalId: externalId) }
}
