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
    /// Shift changes from workforce systems (`agent.shiftStarted`, `agent.shiftEnded`), keyed by agent.
    public static let staffing = "staffing.events"
    /// The forecaster's events: `sla.atRisk`, `sla.atRiskCleared`, `sla.expected`.
    public static let slaForecast = "sla.forecast"
    /// The forecaster's state, keyed by ticket (and `~desk` for the desk's outlook): compacted.
    public static let forecastChangelog = "forecast.changelog"
    /// Holds no records: the forecaster instance assigned its partition 0 is the active one.
    public static let forecastLeader = "forecast.leader"

    public static let all = [
        inbound, received, classified, activity, escalationCommands, slaEvents, escalationEvents, notifications,
        notificationsDelivered, notificationsFailed, docsFeedback, rejected, deadletter, slaTimerChangelog, escalationChangelog,
        staffing, slaForecast, forecastChangelog, forecastLeader,
    ]
    /// Compacted: the latest record per ticket is the state.
    public static let compacted: Set<String> = [slaTimerChangelog, escalationChangelog, forecastChangelog]
}
