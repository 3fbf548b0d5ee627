import Foundation

/// How a notification reaches a person.
public enum DeliveryChannel: String, WireEnum {
    /// A mail through the configured SMTP relay.
    case email
    /// A signed JSON POST (Standard Webhooks), optionally in Slack's shape.
    case webhook
    /// A line in the notifier's log (`helpdesk dev`'s default route).
    case log
}

/// `notifications.delivered`: one notification handed to one recipient on one channel, so an
/// audit can show who was told what, and when.
public struct NotificationDelivered: EventPayload {
    public static let type = "notification.delivered"
    /// The `notifications` record's `eventId`: the e-mail's `Message-ID` and the webhook's `webhook-id`.
    public var notificationId: EventID
    public var audience: Notification.Audience
    public var kind: Notification.Kind?
    public var channel: DeliveryChannel
    /// The route (its name in the routes file) that chose this delivery.
    public var route: String
    /// The e-mail address, or the webhook's name.
    public var recipient: String
    public var attempts: Int
    /// From the `notifications` record's timestamp to the recipient's acceptance.
    public var latencyMs: Int
    public var deliveredAt: Date

    public init(
        notificationId: EventID, audience: Notification.Audience, kind: Notification.Kind?, channel: DeliveryChannel,
        route: String, recipient: String, attempts: Int, latencyMs: Int, deliveredAt: Date
    ) {
        self.notificationId = notificationId
        self.audience = audience
        self.kind = kind
        self.channel = channel
        self.route = route
        self.recipient = recipient
        self.attempts = attempts
        self.latencyMs = latencyMs
        self.deliveredAt = ISO8601.wholeSeconds(deliveredAt)
    }
}

/// `notifications.failed`: a delivery that failed for good (an address refused, a 4xx answer,
/// retries given up), with the reason; operators replay it after fixing the cause.
public struct NotificationFailed: EventPayload {
    public static let type = "notification.failed"
    public var notificationId: EventID
    public var audience: Notification.Audience
    public var kind: Notification.Kind?
    public var channel: DeliveryChannel
    public var route: String
    public var recipient: String
    public var attempts: Int
    /// Stable: `smtp_5xx`, `http_4xx`, `no_address`, `bad_address`, `gave_up`.
    public var code: String
    public var reason: String
    public var failedAt: Date

    public init(
        notificationId: EventID, audience: Notification.Audience, kind: Notification.Kind?, channel: DeliveryChannel,
        route: String, recipient: String, attempts: Int, code: String, reason: String, failedAt: Date
    ) {
        self.notificationId = notificationId
        self.audience = audience
        self.kind = kind
        self.channel = channel
        self.route = route
        self.recipient = recipient
        self.attempts = attempts
        self.code = code
        self.reason = reason
        self.failedAt = ISO8601.wholeSeconds(failedAt)
    }
}
