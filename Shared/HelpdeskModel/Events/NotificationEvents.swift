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

/// Who was to be told what, on which channel: what a delivered and a failed record share.
public struct NotificationDelivery: Codable, Sendable, Equatable {
    /// The `notifications` record's `eventId`: the e-mail's `Message-ID` and the webhook's `webhook-id`.
    public var notificationId: EventID
    public var audience: Notification.Audience
    public var kind: Notification.Kind?
    public var channel: DeliveryChannel
    /// The route (its name in the routes file) that chose this delivery.
    public var route: String
    /// The e-mail address (empty when the notification carried none), or the webhook's name.
    public var recipient: String
    public var attempts: Int

    public init(
        notificationId: EventID, audience: Notification.Audience, kind: Notification.Kind?, channel: DeliveryChannel,
        route: String, recipient: String, attempts: Int
    ) {
        self.notificationId = notificationId
        self.audience = audience
        self.kind = kind
        self.channel = channel
        self.route = route
        self.recipient = recipient
        self.attempts = attempts
    }
}

/// `notifications.delivered`: one notification accepted by one recipient on one channel, so an
/// audit can show who was told what, and when. On the wire, the delivery's fields sit beside
/// `latencyMs` and `deliveredAt`.
@dynamicMemberLookup
public struct NotificationDelivered: EventPayload {
    public static let type = "notification.delivered"
    public var delivery: NotificationDelivery
    /// From the `notifications` record's timestamp to the recipient's acceptance.
    public var latencyMs: Int
    public var deliveredAt: Date

    public init(_ delivery: NotificationDelivery, latencyMs: Int, deliveredAt: Date) {
        self.delivery = delivery
        self.latencyMs = latencyMs
        self.deliveredAt = ISO8601.wholeSeconds(deliveredAt)
    }

    public subscript<T>(dynamicMember field: KeyPath<NotificationDelivery, T>) -> T { delivery[keyPath: field] }

    private enum CodingKeys: String, CodingKey { case latencyMs, deliveredAt }

    public init(from decoder: any Decoder) throws {
        delivery = try NotificationDelivery(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        latencyMs = try container.decode(Int.self, forKey: .latencyMs)
        deliveredAt = try container.decode(Date.self, forKey: .deliveredAt)
    }

    public func encode(to encoder: any Encoder) throws {
        try delivery.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(latencyMs, forKey: .latencyMs)
        try container.encode(deliveredAt, forKey: .deliveredAt)
    }
}

/// `notifications.failed`: a delivery that failed for good (an address refused, a 4xx answer,
/// retries given up), with the reason; operators send it again after fixing the cause.
@dynamicMemberLookup
public struct NotificationFailed: EventPayload {
    public static let type = "notification.failed"
    public var delivery: NotificationDelivery
    /// Stable: `smtp_<reply>`, `http_<status>`, `no_address`, `bad_address`, `no_smtp`, `no_webhook`, `circuit_open`, `gave_up`.
    public var code: String
    public var reason: String
    public var failedAt: Date

    public init(_ delivery: NotificationDelivery, code: String, reason: String, failedAt: Date) {
        self.delivery = delivery
        self.code = code
        self.reason = reason
        self.failedAt = ISO8601.wholeSeconds(failedAt)
    }

    public subscript<T>(dynamicMember field: KeyPath<NotificationDelivery, T>) -> T { delivery[keyPath: field] }

    private enum CodingKeys: String, CodingKey { case code, reason, failedAt }

    public init(from decoder: any Decoder) throws {
        delivery = try NotificationDelivery(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = try container.decode(String.self, forKey: .code)
        reason = try container.decode(String.self, forKey: .reason)
        failedAt = try container.decode(Date.self, forKey: .failedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        try delivery.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(reason, forKey: .reason)
        try container.encode(failedAt, forKey: .failedAt)
    }
}
