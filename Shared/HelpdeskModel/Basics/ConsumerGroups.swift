/// The consumer group of each service (docs/operations.md): one group per service, its
/// instances share the work. The sla-timer also reads intake's commits (`SLA_UPSTREAM_*`).
public enum ConsumerGroups {
    public static let intake = "intake"
    public static let classifier = "classifier"
    public static let slaTimer = "sla-timer"
    public static let escalation = "escalation"
    public static let notifier = "notifier"
    /// The history store's projector.
    public static let history = "history"
    /// The forecaster's instances: the one assigned `forecast.leader`'s partition 0 is active.
    public static let forecaster = "forecaster"
}
