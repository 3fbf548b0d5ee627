import AsyncHTTPClient
import Crypto
import Foundation
import HelpdeskModel
import NIOCore
import NIOHTTP1

/// One attempt's outcome on a channel.
public enum DeliveryAttempt: Sendable, Equatable {
    case delivered
    /// Worth another attempt (connection refused, timeout, 5xx, 429, SMTP 4xx); `retryAfter` when the receiver said.
    case transient(String, retryAfter: Duration? = nil)
    /// Never worth another attempt (4xx, SMTP 5xx, a bad address).
    case permanent(code: String, reason: String)
}

public protocol MailTransport: Sendable {
    func send(_ message: MailMessage) async -> DeliveryAttempt
}

public protocol WebhookTransport: Sendable {
    func post(_ request: WebhookRequest, to url: URL, timeout: Duration) async -> DeliveryAttempt
    func shutdown() async
}

/// A webhook's signing key: `NOTIFIER_WEBHOOK_<NAME>_SECRET`, `whsec_` and base64 as the
/// Standard Webhooks convention gives it. Compared and used only as bytes; never logged.
public struct WebhookSecret: Sendable {
    let key: SymmetricKey

    public init?(_ text: String) {
        let encoded = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
        guard let bytes = Data(base64Encoded: encoded), bytes.count >= 16 else { return nil }
        key = SymmetricKey(data: bytes)
    }

    /// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var mac = HMAC<Crypto.SHA256>(key: key)
        mac.update(data: Array("\(id).\(timestamp).".utf8))
        mac.update(data: body)
        return "v1," + Data(mac.finalize()).base64EncodedString()
    }

    /// Whether any of the space-separated signatures in a `webhook-signature` header is ours,
    /// compared in constant time (what a receiver does; the tests verify deliveries with it).
    public func verifies(header: String, id: String, timestamp: Int64, body: [UInt8]) -> Bool {
        let expected = Array(signature(id: id, timestamp: timestamp, body: body).utf8)
        var matched = false
        for candidate in header.split(separator: " ") {
            let bytes = Array(candidate.utf8)
            guard bytes.count == expected.count else { continue }
            var difference: UInt8 = 0
            for index in bytes.indices { difference |= bytes[index] ^ expected[index] }
            matched = matched || difference == 0
        }
        return matched
    }
}

/// A webhook delivery as sent: the body in the webhook's format, and the Standard Webhooks
/// headers (`webhook-id` is the notification's `eventId`, so a receiver drops a repeat).
public struct WebhookRequest: Sendable, Equatable {
    public var id: String
    public var timestamp: Int64
    public var body: [UInt8]
    public var signature: String?

    public init(notification: Event<HelpdeskModel.Notification>, format: NotificationRoutes.Webhook.Format,
                secret: WebhookSecret?, now: Date) {
        id = notification.eventId.rawValue
        timestamp = Int64(now.timeIntervalSince1970.rounded(.down))
        switch format {
        case .standard: body = Self.standardBody(notification)
        case .slack: body = Self.slackBody(notification)
        }
        signature = secret?.signature(id: id, timestamp: timestamp, body: body)
    }

    /// `{"type": "notification.<kind>", "timestamp": ..., "data": <the notification event>}`.
    static func standardBody(_ notification: Event<HelpdeskModel.Notification>) -> [UInt8] {
        let data = (try? WireJSON.encode(notification)) ?? Array("{}".utf8)
        let type = "notification." + (notification.payload.kind?.rawValue ?? "other")
        return Array("{\"type\":\(jsonString(type)),\"timestamp\":\(jsonString(ISO8601.format(notification.at))),\"data\":".utf8)
            + data + Array("}".utf8)
    }

    /// What a Slack or Mattermost incoming webhook takes: `text` (the fallback) and blocks.
    static func slackBody(_ notification: Event<HelpdeskModel.Notification>) -> [UInt8] {
        let payload = notification.payload
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        let context = "Ticket \(notification.externalId) (\(notification.source))"
            + (payload.severity.map { " · \($0.name)" } ?? "") + " · \(payload.audience.rawValue)"
        let text = "*\(escaped(payload.subject))*\n\(escaped(payload.text))"
        let blocks = "[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":\(jsonString(String(payload.subject.prefix(150))))}},"
            + "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\(jsonString(String(escaped(payload.text).prefix(3000))))}},"
            + "{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":\(jsonString(escaped(context)))}]}]"
        return Array("{\"text\":\(jsonString(text)),\"blocks\":\(blocks)}".utf8)
    }

    static func jsonString(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}

/// Webhooks through AsyncHTTPClient: one client, its connection pool shared by every webhook;
/// redirects are not followed (a webhook URL that moves is a configuration to fix).
public final class AsyncHTTPWebhooks: WebhookTransport {
    let client: HTTPClient

    public init() {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func post(_ request: WebhookRequest, to url: URL, timeout: Duration) async -> DeliveryAttempt {
        var http = HTTPClientRequest(url: url.absoluteString)
        http.method = .POST
        http.headers.add(name: "content-type", value: "application/json")
        http.headers.add(name: "user-agent", value: "helpdesk-sla-notifier")
        http.headers.add(name: "webhook-id", value: request.id)
        http.headers.add(name: "webhook-timestamp", value: String(request.timestamp))
        if let signature = request.signature { http.headers.add(name: "webhook-signature", value: signature) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        do {
            let response = try await client.execute(http, timeout: .milliseconds(Int64(timeout.milliseconds)))
            // The body is read (and bounded) so that the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return Self.outcome(status: Int(response.status.code), retryAfter: response.headers.first(name: "retry-after"))
        } catch {
            return .transient("HTTP: \(error)")
        }
    }

    /// 2xx delivered; 408, 429 and 5xx later (after `Retry-After` when given); any other status for good.
    static func outcome(status: Int, retryAfter: String?, now: Date = Date()) -> DeliveryAttempt {
        switch status {
        case 200...299: return .delivered
        case 408, 429, 500...599:
            return .transient("HTTP \(status)", retryAfter: retryAfter.flatMap { parseRetryAfter($0, now: now) })
        default: return .permanent(code: "http_\(status)", reason: "the receiver answered HTTP \(status)")
        }
    }

    /// `Retry-After`: seconds, or an HTTP date.
    static func parseRetryAfter(_ text: String, now: Date) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSince(now).rounded(.up))))
    }

    public func shutdown() async {
        try? await client.shutdown()
    }
}
