import Foundation
import HelpdeskModel
import Logging
import MessageBus
import Metrics
import ServiceRuntime

/// The channels a notifier delivers through, with their lanes and retry policy.
public struct NotifierChannels: Sendable {
    public var mail: (any MailTransport)?
    public var mailFrom: String
    public var webhooks: any WebhookTransport
    public var webhookSecrets: [String: WebhookSecret]
    public var webhookTimeout: Duration
    public var retry: RetryPolicy
    public var lanes: [String: DeliveryLane]

    public init(
        mail: (any MailTransport)?, mailFrom: String, webhooks: any WebhookTransport, webhookSecrets: [String: WebhookSecret],
        webhookTimeout: Duration, retry: RetryPolicy, lanes: [String: DeliveryLane]
    ) {
        self.mail = mail
        self.mailFrom = mailFrom
        self.webhooks = webhooks
        self.webhookSecrets = webhookSecrets
        self.webhookTimeout = webhookTimeout
        self.retry = retry
        self.lanes = lanes
    }

    public static let mailLane = "email"
    public static func webhookLane(_ name: String) -> String { "webhook:\(name)" }
}

/// `notifications` → each routed delivery made (retried while it fails transiently), then one
/// record per delivery: `notifications.delivered` or `notifications.failed`. The channels of
/// one notification are delivered at once; the record is finished (and may be committed) when
/// every one has succeeded or failed for good. Ids derive from the notification's, the channel
/// and the recipient, so a redelivered notification yields the same records.
public struct NotifierProcessor: RecordProcessor {
    public static let service = "notifier"
    let routes: NotificationRoutes
    let channels: NotifierChannels
    let clock: any WallClock
    let logger: Logger
    let metrics = NotifierMetrics()

    public init(routes: NotificationRoutes, channels: NotifierChannels, clock: any WallClock, logger: Logger) {
        self.routes = routes
        self.channels = channels
        self.clock = clock
        self.logger = logger
    }

    public func process(_ record: ConsumerRecord) async throws -> [OutgoingRecord] {
        let event: Event<HelpdeskModel.Notification>
        do {
            event = try WireJSON.decode(Event<HelpdeskModel.Notification>.self, from: record.value ?? [])
        } catch {
            throw UnprocessableRecord(code: "invalid_event", reason: "not a notification event: \(error)")
        }
        let targets = routes.targets(for: event.payload)
        if targets.isEmpty {
            metrics.unrouted.increment()
            return []
        }
        let outcomes = try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask { (index, try await deliver(event, to: target)) }
            }
            var outcomes = [Outcome?](repeating: nil, count: targets.count)
            for try await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.compactMap { $0 }
        }
        let now = clock.now()
        return zip(targets, outcomes).map { target, outcome in
            let recipient = target.recipient ?? ""
            let cause = "\(event.eventId.rawValue)/\(target.channel.rawValue)/\(EmailAddress.normalize(recipient))"
            func output<P: EventPayload>(_ topic: String, _ payload: P) -> OutgoingRecord {
                OutgoingRecord(event: Event(emittedBy: Self.service, causedBy: cause, ticketId: event.ticketId, source: event.source,
                                            externalId: event.externalId, at: now, payload: payload),
                               topic: topic, producer: Self.service)
            }
            func delivery(attempts: Int) -> NotificationDelivery {
                NotificationDelivery(
                    notificationId: event.eventId, audience: event.payload.audience, kind: event.payload.kind,
                    channel: target.channel, route: target.route, recipient: recipient, attempts: attempts)
            }
            switch outcome {
            case .delivered(let attempts):
                let latency = max(0, Int(now.timeIntervalSince(record.timestamp) * 1000))
                metrics.delivered(target.channel, latency: latency)
                return output(Topics.notificationsDelivered,
                              NotificationDelivered(delivery(attempts: attempts), latencyMs: latency, deliveredAt: now))
            case .failed(let attempts, let code, let reason):
                metrics.failed(target.channel, code: code)
                logger.warning("a notification could not be delivered", metadata: [
                    "notification": "\(event.eventId.rawValue)", "channel": "\(target.channel.rawValue)",
                    "route": "\(target.route)", "code": "\(code)", "reason": "\(reason)"])
                return output(Topics.notificationsFailed,
                              NotificationFailed(delivery(attempts: attempts), code: code, reason: reason, failedAt: now))
            }
        }
    }

    enum Outcome: Sendable {
        case delivered(attempts: Int)
        case failed(attempts: Int, code: String, reason: String)
    }

    /// One delivery, retried on its lane until it succeeds, fails for good, or runs out of attempts.
    func deliver(_ event: Event<HelpdeskModel.Notification>, to target: NotificationRoutes.Target) async throws -> Outcome {
        let notification = event.payload
        let lane: DeliveryLane
        let send: @Sendable () async -> DeliveryAttempt
        switch target.channel {
        case .log:
            logger.info("notification", metadata: [
                "notification": "\(event.eventId.rawValue)", "ticket": "\(event.externalId)", "audience": "\(notification.audience.rawValue)",
                "kind": "\(notification.kind?.rawValue ?? "-")", "recipient": "\(notification.recipient ?? "-")",
                "severity": "\(notification.severity?.name ?? "-")", "subject": "\(notification.subject)"])
            return .delivered(attempts: 1)
        case .email:
            guard let address = target.recipient else {
                return .failed(attempts: 0, code: "no_address",
                               reason: "the notification names no address for audience \(notification.audience.rawValue)")
            }
            guard MailAddress.isValid(address) else {
                return .failed(attempts: 0, code: "bad_address", reason: "not an e-mail address: \(address.prefix(100))")
            }
            guard let mail = channels.mail, let mailLane = channels.lanes[NotifierChannels.mailLane] else {
                return .failed(attempts: 0, code: "no_smtp", reason: "no SMTP relay is configured (NOTIFIER_SMTP_URL)")
            }
            lane = mailLane
            let message = MailMessage(notification: event, from: channels.mailFrom, to: address, date: clock.now())
            send = { await mail.send(message) }
        case .webhook:
            let name = target.recipient ?? ""
            guard let webhook = routes.webhooks[name], let webhookLane = channels.lanes[NotifierChannels.webhookLane(name)] else {
                return .failed(attempts: 0, code: "no_webhook", reason: "no webhook named \(name)")
            }
            lane = webhookLane
            let transport = channels.webhooks, timeout = channels.webhookTimeout, clock = self.clock
            let secret = channels.webhookSecrets[name]
            // Signed afresh at each attempt: the timestamp is the attempt's.
            send = {
                let request = WebhookRequest(notification: event, format: webhook.format, secret: secret, now: clock.now())
                return await transport.post(request, to: webhook.url, timeout: timeout)
            }
        }
        guard try await lane.admit() else {
            return .failed(attempts: 0, code: "circuit_open",
                           reason: "\(lane.name) is not answering and \(lane.capacity) deliveries already wait for it")
        }
        defer { lane.leave() }
        let giveUpAt = clock.now() + channels.retry.giveUpAfter.timeInterval
        var attempts = 0
        var lastReason = "its circuit was open"
        while true {
            guard let outcome = try await lane.attempt(until: giveUpAt, send) else {
                return .failed(attempts: attempts, code: "gave_up",
                               reason: "gave up after \(attempts) attempts in \(channels.retry.giveUpAfter): \(lastReason)")
            }
            attempts += 1
            switch outcome {
            case .delivered:
                return .delivered(attempts: attempts)
            case .permanent(let code, let reason):
                return .failed(attempts: attempts, code: code, reason: reason)
            case .transient(let reason, let retryAfter):
                metrics.retried(target.channel)
                lastReason = reason
                let delay = channels.retry.delay(afterAttempt: attempts, retryAfter: retryAfter, jitter: Double.random(in: 0...1))
                let retryAt = clock.now() + delay.timeInterval
                guard attempts < channels.retry.maxAttempts, retryAt < giveUpAt else {
                    return .failed(attempts: attempts, code: "gave_up", reason: "gave up after \(attempts) attempts: \(reason)")
                }
                logger.debug("delivery failed, retrying", metadata: [
                    "notification": "\(event.eventId.rawValue)", "lane": "\(lane.name)", "attempt": "\(attempts)", "reason": "\(reason)"])
                try await clock.sleep(until: retryAt)
            }
        }
    }
}

/// The notifier's metric handles, made once.
struct NotifierMetrics: Sendable {
    let unrouted = Counter(label: "helpdesk_notifier_unrouted_total")
    let deliveredTotal = Dictionary(uniqueKeysWithValues: DeliveryChannel.allCases.map {
        ($0, Counter(label: "helpdesk_notifier_delivered_total", dimensions: [("channel", $0.rawValue)]))
    })
    let retries = Dictionary(uniqueKeysWithValues: DeliveryChannel.allCases.map {
        ($0, Counter(label: "helpdesk_notifier_retries_total", dimensions: [("channel", $0.rawValue)]))
    })
    let latency = Dictionary(uniqueKeysWithValues: DeliveryChannel.allCases.map {
        ($0, Metrics.Timer(label: "helpdesk_notifier_delivery_latency_seconds", dimensions: [("channel", $0.rawValue)]))
    })

    func delivered(_ channel: DeliveryChannel, latency milliseconds: Int) {
        deliveredTotal[channel]?.increment()
        latency[channel]?.recordMilliseconds(milliseconds)
    }

    func failed(_ channel: DeliveryChannel, code: String) {
        // Codes are a small fixed set (smtp_<reply>, http_<status>, gave_up, no_address, ...).
        Counter(label: "helpdesk_notifier_failed_total", dimensions: [("channel", channel.rawValue), ("code", code)]).increment()
    }

    func retried(_ channel: DeliveryChannel) { retries[channel]?.increment() }
}

/// A lane's gauges: deliveries in it, attempts waiting for a slot, and whether its circuit is open.
struct LaneMetrics: Sendable {
    let deliveries: Gauge
    let queued: Gauge
    let circuitOpen: Gauge

    init(lane: String) {
        deliveries = Gauge(label: "helpdesk_notifier_lane_deliveries", dimensions: [("lane", lane)])
        queued = Gauge(label: "helpdesk_notifier_lane_waiting", dimensions: [("lane", lane)])
        circuitOpen = Gauge(label: "helpdesk_notifier_circuit_open", dimensions: [("lane", lane)])
    }
}
