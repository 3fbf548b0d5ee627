/// The topics of the wire contract (DESIGN.md, docs/events.md).
public enum Topics {
    public static let inbound = "tickets.inbound"
    public static let received = "tickets.received"
    public static let classified = "tickets.classified"
    public static let activity = "tickets.activity"
    public static let escalationCommands = "escalation.commands"
    public static let slaEvents = "sla.events"
    public static let escalationEvents = "escalation.events"
    public static let notifications = "notifications"
    /// The notifier's audit: every delivery made (`notification.delivered`).
    public static let notificationsDelivered = "notifications.delivered"
    /// The notifier's permanent failures (`notification.failed`).
    public static let notificationsFailed = "notifications.failed"
    public static let docsFeedback = "docs.feedback"
    public static let rejected = "tickets.rejected"
    public static let deadletter = "deadletter"
    public static let slaTimerChangelog = "sla-timer.changelog"
    public static let escalationChangelog = "escalation.changelog"

    public static let all = [
        inbound, received, classified, activity, escalationCommands, slaEvents, escalationEvents, notifications,
        notificationsDelivered, notificationsFailed, docsFeedback, rejected, deadletter, slaTimerChangelog, escalationChangelog,
    ]
    /// Compacted: the latest record per ticket is the state.
    public static let compacted: Set<String> = [slaTimerChangelog, escalationChangelog]
}
