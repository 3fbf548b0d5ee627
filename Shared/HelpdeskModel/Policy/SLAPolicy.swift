import Foundation

/// What the policy says for one severity.
public struct SeverityTarget: Sendable, Equatable {
    public var firstResponse: Duration
    /// The fraction of `firstResponse` after which a warning goes out (0 < warnAt < 1).
    public var warnAt: Double
    public var escalateOnBreach: Bool
    /// Who is told when the warning goes out, and when the deadline is breached.
    public var notifyOnWarning: [Notification.Audience]
    public var notifyOnBreach: [Notification.Audience]

    public init(
        firstResponse: Duration, warnAt: Double, escalateOnBreach: Bool,
        notifyOnWarning: [Notification.Audience] = [.assignee], notifyOnBreach: [Notification.Audience] = [.supportLead]
    ) {
        self.firstResponse = firstResponse
        self.warnAt = warnAt
        self.escalateOnBreach = escalateOnBreach
        self.notifyOnWarning = notifyOnWarning
        self.notifyOnBreach = notifyOnBreach
    }
}

/// The support policy: business calendar, targets per severity, escalation address.
public struct SLAPolicy: Sendable {
    public var calendar: BusinessCalendar
    public var escalationAddress: String
    /// Where customers report documentation errors (a URL or an e-mail address): the answer to
    /// a ticket routed to documentation.
    public var documentationForm: String
    public var targets: [Severity: SeverityTarget]

    public static let standardDocumentationForm = "https://support.example/documentation-feedback"

    public init(
        calendar: BusinessCalendar, escalationAddress: String, documentationForm: String = standardDocumentationForm,
        targets: [Severity: SeverityTarget]
    ) {
        self.calendar = calendar
        self.escalationAddress = escalationAddress
        self.documentationForm = documentationForm
        self.targets = targets
    }

    /// The policy table of DESIGN.md: 1, 4 and 8 business hours, warning at 75 %, critical
    /// breaches escalate, 09:00–17:00 America/Denver Monday to Friday, no holidays.
    public static let standard = SLAPolicy(
        calendar: .standard, escalationAddress: "escalations@support.example",
        targets: [
            .critical: SeverityTarget(
                firstResponse: .seconds(3600), warnAt: 0.75, escalateOnBreach: true,
                notifyOnWarning: [.assignee, .supportLead], notifyOnBreach: [.supportLead, .management]),
            .major: SeverityTarget(
                firstResponse: .seconds(4 * 3600), warnAt: 0.75, escalateOnBreach: false,
                notifyOnWarning: [.assignee], notifyOnBreach: [.assignee, .supportLead]),
            .minor: SeverityTarget(
                firstResponse: .seconds(8 * 3600), warnAt: 0.75, escalateOnBreach: false,
                notifyOnWarning: [.assignee], notifyOnBreach: [.supportLead]),
        ])

    public func target(for severity: Severity) -> SeverityTarget { targets[severity]! }

    /// When the first response is due: the severity's target in business time from when the
    /// ticket was opened (or the next opening, if it was opened outside business hours).
    public func firstResponseDue(severity: Severity, openedAt: Date) -> Date {
        calendar.due(start: openedAt, businessDuration: target(for: severity).firstResponse)
    }

    /// When the warning for an open first-response clock goes out.
    public func warningAt(severity: Severity, openedAt: Date) -> Date {
        let target = target(for: severity)
        return calendar.warningInstant(start: openedAt, businessDuration: target.firstResponse, fraction: target.warnAt)
    }

    /// Re-prioritization: the deadline is recomputed from the ticket's original start with the
    /// new severity's target; if it has already passed at `now`, the ticket is in breach at once.
    public func reprioritize(openedAt: Date, to severity: Severity, now: Date) -> (dueAt: Date, breachedNow: Bool) {
        let due = firstResponseDue(severity: severity, openedAt: openedAt)
        return (due, due <= ISO8601.wholeSeconds(now))
    }
}
