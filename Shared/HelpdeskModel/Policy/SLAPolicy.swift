import Foundation

/// A target of one of the further metrics (`nextReply`, `periodicUpdate`, `resolution`) at one
/// severity.
public struct MetricTarget: Sendable, Equatable {
    /// Business time allowed: to the next reply, between updates, or to the resolution.
    public var target: Duration
    /// The fraction of `target` after which a warning goes out (0 < warnAt < 1).
    public var warnAt: Double
    /// Ticket statuses during which the clock does not count.
    public var pauses: Set<TicketStatus>
    public var escalateOnBreach: Bool
    public var notifyOnWarning: [Notification.Audience]
    public var notifyOnBreach: [Notification.Audience]

    public init(
        target: Duration, warnAt: Double = 0.75, pauses: Set<TicketStatus> = [], escalateOnBreach: Bool = false,
        notifyOnWarning: [Notification.Audience] = [.assignee], notifyOnBreach: [Notification.Audience] = [.supportLead]
    ) {
        self.target = target
        self.warnAt = warnAt
        self.pauses = pauses
        self.escalateOnBreach = escalateOnBreach
        self.notifyOnWarning = notifyOnWarning
        self.notifyOnBreach = notifyOnBreach
    }

    /// What `pauses` is when the policy file does not say: waiting on the customer.
    public static func defaultPauses(_ metric: SLAMetric) -> Set<TicketStatus> {
        metric == .nextReply || metric == .resolution ? [.pending, .onHold] : []
    }
}

/// What the policy says for one severity.
public struct SeverityTarget: Sendable, Equatable {
    public var firstResponse: Duration
    /// The fraction of `firstResponse` after which a warning goes out (0 < warnAt < 1).
    public var warnAt: Double
    public var escalateOnBreach: Bool
    /// Who is told when the warning goes out, and when the deadline is breached.
    public var notifyOnWarning: [Notification.Audience]
    public var notifyOnBreach: [Notification.Audience]
    /// The calendar this severity's clocks count in, by name (`calendars` in the policy file);
    /// nil: the plan's own.
    public var calendarName: String?
    /// The further metrics; nil where the policy sets none.
    public var nextReply: MetricTarget?
    public var periodicUpdate: MetricTarget?
    public var resolution: MetricTarget?

    public init(
        firstResponse: Duration, warnAt: Double, escalateOnBreach: Bool,
        notifyOnWarning: [Notification.Audience] = [.assignee], notifyOnBreach: [Notification.Audience] = [.supportLead],
        calendarName: String? = nil, nextReply: MetricTarget? = nil, periodicUpdate: MetricTarget? = nil,
        resolution: MetricTarget? = nil
    ) {
        self.calendarName = calendarName
        self.nextReply = nextReply
        self.periodicUpdate = periodicUpdate
        self.resolution = resolution
        self.firstResponse = firstResponse
        self.warnAt = warnAt
        self.escalateOnBreach = escalateOnBreach
        self.notifyOnWarning = notifyOnWarning
        self.notifyOnBreach = notifyOnBreach
    }

    /// One metric's target at this severity, first response included; nil where none is set.
    public func metric(_ metric: SLAMetric) -> MetricTarget? {
        switch metric {
        case .firstResponse:
            MetricTarget(target: firstResponse, warnAt: warnAt, escalateOnBreach: escalateOnBreach,
                         notifyOnWarning: notifyOnWarning, notifyOnBreach: notifyOnBreach)
        case .nextReply: nextReply
        case .periodicUpdate: periodicUpdate
        case .resolution: resolution
        }
    }
}

/// The support policy: business calendar, targets per severity, escalation address.
public struct SLAPolicy: Sendable {
    /// The support plan these targets are for; nil: the default policy, which applies to every
    /// organization whose plan has no policy of its own.
    public var planName: String?
    /// The plan's own calendar: the one its severities count in unless they name another.
    public var calendar: BusinessCalendar
    public var escalationAddress: String
    /// Where customers report documentation errors (a URL or an e-mail address): the answer to
    /// a ticket routed to documentation.
    public var documentationForm: String
    public var targets: [Severity: SeverityTarget]
    /// Calendars by name, for severities that count in another than the plan's (say, around the
    /// clock for a premium plan's critical tickets).
    public var calendars: [String: BusinessCalendar]
    /// Policies of named support plans (the organization's plan selects one); each has the
    /// same `calendars`, escalation address and documentation form as this one.
    public var plans: [String: SLAPolicy]
    /// Agents on shift for the workload forecast (`staffing` in the policy file); nil: four
    /// agents whenever the default calendar is open (`StaffingSchedule.following`).
    public var staffing: StaffingSchedule?

    /// The schedule the forecast runs on: the file's, or four agents in the calendar's hours.
    public var staffingSchedule: StaffingSchedule { staffing ?? .following(calendar) }

    public static let standardDocumentationForm = "https://support.example/documentation-feedback"

    public init(
        calendar: BusinessCalendar, escalationAddress: String, documentationForm: String = standardDocumentationForm,
        targets: [Severity: SeverityTarget], calendars: [String: BusinessCalendar] = [:], plans: [String: SLAPolicy] = [:],
        planName: String? = nil
    ) {
        self.planName = planName
        self.calendars = calendars
        self.plans = plans
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

    /// The policy of a support plan: its own where the policy names the plan, this (the
    /// default) otherwise.
    public func forPlan(_ plan: String?) -> SLAPolicy {
        guard let plan, let policy = plans[plan] else { return self }
        return policy
    }

    /// Whether tickets of `plan` run any metric beyond the first response.
    public func hasFurtherMetrics(plan: String?) -> Bool {
        forPlan(plan).targets.values.contains { $0.nextReply != nil || $0.periodicUpdate != nil || $0.resolution != nil }
    }

    /// The calendar a severity's clocks count business time in.
    public func calendar(for severity: Severity) -> BusinessCalendar {
        target(for: severity).calendarName.flatMap { calendars[$0] } ?? calendar
    }

    /// When the first response is due: the severity's target in business time from when the
    /// ticket was opened (or the next opening, if it was opened outside business hours).
    public func firstResponseDue(severity: Severity, openedAt: Date) -> Date {
        calendar(for: severity).due(start: openedAt, businessDuration: target(for: severity).firstResponse)
    }

    /// When the warning for an open first-response clock goes out.
    public func warningAt(severity: Severity, openedAt: Date) -> Date {
        let target = target(for: severity)
        return calendar(for: severity).warningInstant(start: openedAt, businessDuration: target.firstResponse, fraction: target.warnAt)
    }

    /// Re-prioritization: the deadline is recomputed from the ticket's original start with the
    /// new severity's target; if it has already passed at `now`, the ticket is in breach at once.
    public func reprioritize(openedAt: Date, to severity: Severity, now: Date) -> (dueAt: Date, breachedNow: Bool) {
        let due = firstResponseDue(severity: severity, openedAt: openedAt)
        return (due, due <= ISO8601.wholeSeconds(now))
    }
}
