import Foundation
import HelpdeskModel
import MessageBus
import ServiceLifecycle
import ServiceRuntime

/// The notifier, built on `dependencies`' broker: `notifications` → e-mail, webhooks and the
/// log per the routes file; `notifications.delivered` | `notifications.failed`.
/// `mail` and `webhooks` replace the real transports (tests of the loop without a network).
public func buildNotifier(
    _ dependencies: ServiceDependencies, mail: (any MailTransport)? = nil, webhooks: (any WebhookTransport)? = nil
) throws -> BuiltService {
    let reader = dependencies.reader
    var routes = NotificationRoutes.logEverything
    if let path = reader.optionalString("NOTIFIER_ROUTES_FILE") {
        do {
            routes = try NotificationRoutes.load(file: path)
        } catch let error as RoutesFileError {
            for problem in error.problems { reader.fail("NOTIFIER_ROUTES_FILE=\(path): \(problem)") }
        }
    }
    let settings = NotifierSettings(reader: reader, routes: routes)
    let clock = dependencies.clock
    let circuit = CircuitBreaker(threshold: settings.circuitThreshold, coolDown: settings.circuitCoolDown)
    var lanes = [String: DeliveryLane]()
    if settings.smtp != nil || mail != nil {
        lanes[NotifierChannels.mailLane] = DeliveryLane(
            name: NotifierChannels.mailLane, concurrency: settings.smtpConcurrency, capacity: settings.laneCapacity, circuit: circuit,
            clock: clock)
    }
    for name in routes.webhooks.keys {
        let lane = NotifierChannels.webhookLane(name)
        lanes[lane] = DeliveryLane(
            name: lane, concurrency: settings.webhookConcurrency, capacity: settings.laneCapacity, circuit: circuit, clock: clock)
    }
    // Every setting is checked before the HTTP client exists: it must be shut down once made.
    try reader.validate()
    let webhookTransport = webhooks ?? AsyncHTTPWebhooks()
    let channels = NotifierChannels(
        mail: mail ?? settings.smtp.map { CurlSMTP(settings: $0) }, mailFrom: settings.smtp?.from ?? NotifierSettings.defaultFrom,
        webhooks: webhookTransport, webhookSecrets: settings.webhookSecrets, webhookTimeout: settings.webhookTimeout,
        retry: settings.retry, lanes: lanes)
    return try buildService(dependencies) { context in
        let processor = NotifierProcessor(routes: routes, channels: channels, clock: clock, logger: context.logger)
        context.logger.info("routes", metadata: [
            "routes": "\(routes.routes.map(\.name))", "webhooks": "\(routes.webhooks.keys.sorted())",
            "smtp": "\(settings.smtp.map { SecretURL.redacted($0.url) } ?? "none")"])
        return ServiceParts(
            consumption: .concurrent(
                .init(group: ConsumerGroups.notifier, topics: [Topics.notifications],
                      instanceID: context.configuration.kafka.properties["group.instance.id"]),
                processor, settings.concurrency, outputs: [Topics.notificationsDelivered, Topics.notificationsFailed]),
            routes: { router in OpenAPIRoute.add(PackageResources.openapi_yaml, to: router) },
            // The HTTP client closes once the loop has stopped delivering.
            services: [ClosingService { await webhookTransport.shutdown() }])
    }
}

/// The notifier's own settings (`NOTIFIER_*`, docs/operations.md#notifier).
struct NotifierSettings {
    static let defaultFrom = "HelpdeskSLA <helpdesk@localhost>"
    var smtp: SMTPSettings?
    var smtpConcurrency: Int
    var webhookSecrets: [String: WebhookSecret] = [:]
    var webhookTimeout: Duration
    var webhookConcurrency: Int
    var retry: RetryPolicy
    var circuitThreshold: Int
    var circuitCoolDown: Duration
    var concurrency: ConcurrencySettings
    var laneCapacity: Int

    /// The variable holding a webhook's signing secret: `chat-ops` → `NOTIFIER_WEBHOOK_CHAT_OPS_SECRET`.
    static func secretVariable(_ webhook: String) -> String {
        "NOTIFIER_WEBHOOK_" + webhook.uppercased().replacingOccurrences(of: "-", with: "_") + "_SECRET"
    }

    init(reader: SettingsReader, routes: NotificationRoutes) {
        if let url = reader.optionalString("NOTIFIER_SMTP_URL") {
            if !(url.hasPrefix("smtp://") || url.hasPrefix("smtps://")) {
                reader.fail("NOTIFIER_SMTP_URL=\(SecretURL.redacted(url)) is not an smtp:// or smtps:// URL")
            }
            if SMTPSettings.hasCredentials(url) {
                reader.fail("NOTIFIER_SMTP_URL=\(SecretURL.redacted(url)) carries credentials; "
                    + "set NOTIFIER_SMTP_USERNAME and NOTIFIER_SMTP_PASSWORD instead (they force TLS)")
            }
            let from = reader.string("NOTIFIER_SMTP_FROM", default: Self.defaultFrom)
            if !MailAddress.isValid(from) { reader.fail("NOTIFIER_SMTP_FROM=\(from) is not an e-mail address") }
            let username = reader.optionalString("NOTIFIER_SMTP_USERNAME")
            let password = reader.optionalString("NOTIFIER_SMTP_PASSWORD")
            if username != nil && password == nil { reader.fail("NOTIFIER_SMTP_USERNAME is set without NOTIFIER_SMTP_PASSWORD") }
            var tls = username == nil ? SMTPSettings.TLS.optional : .required
            if let text = reader.optionalString("NOTIFIER_SMTP_TLS") {
                if let value = SMTPSettings.TLS(rawValue: text) { tls = value } else {
                    reader.fail("NOTIFIER_SMTP_TLS=\(text) is not one of optional|required|off")
                }
            }
            if username != nil && tls != .required && !url.hasPrefix("smtps://") {
                reader.fail("NOTIFIER_SMTP_TLS=\(tls.rawValue) with NOTIFIER_SMTP_USERNAME could send the password in clear; "
                    + "use required, or an smtps:// URL")
            }
            smtp = SMTPSettings(
                url: url, from: from, username: username, password: password, tls: tls,
                caFile: reader.optionalString("NOTIFIER_SMTP_CA_FILE"),
                timeout: .milliseconds(reader.int("NOTIFIER_SMTP_TIMEOUT_MS", default: 30_000, range: 100...600_000)))
        } else if routes.routes.contains(where: { !$0.email.isEmpty }) {
            reader.fail("NOTIFIER_ROUTES_FILE routes e-mail, but NOTIFIER_SMTP_URL is not set")
        }
        smtpConcurrency = reader.int("NOTIFIER_SMTP_CONCURRENCY", default: 4, range: 1...256)
        for (name, webhook) in routes.webhooks.sorted(by: { $0.key < $1.key }) {
            let variable = Self.secretVariable(name)
            guard let text = reader.optionalString(variable) else {
                if webhook.format == .standard {
                    reader.fail("\(variable) is required: webhook \(name) is signed (format standard)")
                }
                continue
            }
            guard let secret = WebhookSecret(text) else {
                reader.fail("\(variable)=<secret> is not whsec_ followed by base64 of at least 16 bytes")
                continue
            }
            webhookSecrets[name] = secret
        }
        webhookTimeout = .milliseconds(reader.int("NOTIFIER_WEBHOOK_TIMEOUT_MS", default: 10_000, range: 100...600_000))
        webhookConcurrency = reader.int("NOTIFIER_WEBHOOK_CONCURRENCY", default: 8, range: 1...256)
        retry = RetryPolicy(
            firstDelay: .milliseconds(reader.int("NOTIFIER_RETRY_FIRST_MS", default: 1_000, range: 1...3_600_000)),
            maxDelay: .milliseconds(reader.int("NOTIFIER_RETRY_MAX_MS", default: 300_000, range: 1...86_400_000)),
            maxAttempts: reader.int("NOTIFIER_MAX_ATTEMPTS", default: 10, range: 1...1_000),
            giveUpAfter: .milliseconds(reader.int("NOTIFIER_GIVE_UP_AFTER_MS", default: 900_000, range: 1...86_400_000)))
        circuitThreshold = reader.int("NOTIFIER_CIRCUIT_THRESHOLD", default: 5, range: 1...1_000)
        circuitCoolDown = .milliseconds(reader.int("NOTIFIER_CIRCUIT_COOLDOWN_MS", default: 5_000, range: 1...3_600_000))
        concurrency = ConcurrencySettings(
            maxInFlight: reader.int("NOTIFIER_MAX_IN_FLIGHT", default: 1_000, range: 1...100_000),
            drainTimeout: .milliseconds(reader.int("NOTIFIER_DRAIN_MS", default: 10_000, range: 0...600_000)))
        // What one dead endpoint may hold of the window; the rest stays for the others.
        let window = concurrency.maxInFlight
        laneCapacity = reader.int("NOTIFIER_LANE_CAPACITY", default: max(1, window / 4), range: 1...max(1, window))
    }
}
