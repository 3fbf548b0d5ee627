import Crypto
import Foundation
import HelpdeskModel
import MessageBus
import NotifierService
import ServiceRuntime
import Testing
import TestSupport

/// The notifier built as `main` builds it (in-memory broker), delivering to a real SMTP server
/// (aiosmtpd, `scripts/smtp-sink.py`) and a real HTTP receiver on loopback.
@Suite("notifier delivering to a real SMTP server and a real HTTP receiver", .serialized)
struct NotifierDeliveryTests {
    static let secret = "whsec_" + Data((0..<32).map { UInt8($0) }).base64EncodedString()

    final class Harness: @unchecked Sendable {
        let broker = InMemoryBroker(defaultPartitions: 3)
        let service: BuiltService
        let routesFile: String

        init(routes: String, environment: [String: String] = [:]) throws {
            routesFile = NSTemporaryDirectory() + "routes-\(UUID().uuidString.prefix(8)).yaml"
            try routes.write(toFile: routesFile, atomically: true, encoding: .utf8)
            let settings = [
                "NOTIFIER_ROUTES_FILE": routesFile, "HTTP_PORT": "0", "NOTIFIER_RETRY_FIRST_MS": "20",
                "NOTIFIER_RETRY_MAX_MS": "200", "NOTIFIER_WEBHOOK_TIMEOUT_MS": "30000",
                "NOTIFIER_CIRCUIT_THRESHOLD": "50",
            ].merging(environment) { $1 }
            service = try buildNotifier(ServiceDependencies(
                serviceName: NotifierProcessor.service, defaultHTTPPort: 0, environment: settings, bus: broker))
        }

        func run(_ body: () async throws -> Void) async throws {
            defer { try? FileManager.default.removeItem(atPath: routesFile) }
            try await withRunningService(service, "the notifier joins its group", body)
        }

        @discardableResult
        func publish(
            _ audience: HelpdeskModel.Notification.Audience, kind: HelpdeskModel.Notification.Kind = .slaBreached,
            recipient: String? = nil, severity: Severity? = .critical, ticket: String = "T-1", cause: String = "c1",
            subject: String = "First-response deadline breached: T-1"
        ) async throws -> EventID {
            let notification = HelpdeskModel.Notification(
                audience: audience, kind: kind, recipient: recipient, severity: severity, subject: subject,
                text: "Critical ticket \(ticket) had no first response by 2026-12-01T17:00:00Z.", causedBy: EventID.derive([cause]))
            let record = OutgoingRecord.notification(
                notification, ticketId: TicketID(source: "crm", externalId: ticket), source: "crm", externalId: ticket,
                at: Date(timeIntervalSince1970: 1_800_000_000), producer: "sla-timer")
            _ = try await broker.makePublisher().publish([record])
            return try WireJSON.decode(EventEnvelope.self, from: record.value ?? []).eventId
        }

        var delivered: [NotificationDelivered] {
            broker.records(in: Topics.notificationsDelivered).compactMap {
                try? WireJSON.decode(Event<NotificationDelivered>.self, from: $0.value ?? []).payload
            }
        }

        var failed: [NotificationFailed] {
            broker.records(in: Topics.notificationsFailed).compactMap {
                try? WireJSON.decode(Event<NotificationFailed>.self, from: $0.value ?? []).payload
            }
        }
    }

    @Test func aMailArrivesWithItsIdsThreadingAndBothParts() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let harness = try Harness(routes: """
            routes:
              - name: leads
                audiences: [supportLead]
                email: [lead@support.example]
              - name: people
                audiences: [assignee]
                email: [recipient]
            """, environment: ["NOTIFIER_SMTP_URL": sink.url, "NOTIFIER_SMTP_FROM": "Helpdesk <helpdesk@support.example>"])
        try await harness.run {
            let id = try await harness.publish(.supportLead)
            let second = try await harness.publish(.assignee, recipient: "agent@support.example", cause: "c2")
            try await eventually("two mails arrive") { sink.messages.count == 2 && harness.delivered.count == 2 }
            let mail = try #require(sink.messages.first { $0.contains("X-Envelope-To: lead@support.example") })
            #expect(mail.contains("X-Envelope-From: helpdesk@support.example"))
            #expect(mail.contains("Message-ID: <\(id.rawValue)@\(MailMessage.idDomain)>"))
            let thread = "<ticket-\(TicketID(source: "crm", externalId: "T-1").rawValue)@\(MailMessage.idDomain)>"
            #expect(mail.contains("In-Reply-To: \(thread)"))
            #expect(mail.contains("References: \(thread)"))
            #expect(mail.contains("Subject: First-response deadline breached: T-1"))
            #expect(mail.contains("Content-Type: multipart/alternative"))
            #expect(mail.contains("Content-Type: text/plain; charset=utf-8"))
            #expect(mail.contains("Content-Type: text/html; charset=utf-8"))
            let parts = Self.base64Parts(mail)
            #expect(parts.count == 2)
            #expect(parts.first?.contains("had no first response by 2026-12-01T17:00:00Z") == true)
            #expect(parts.last?.hasPrefix("<!DOCTYPE html>") == true)
            let toAgent = try #require(sink.messages.first { $0.contains("X-Envelope-To: agent@support.example") })
            #expect(toAgent.contains("Message-ID: <\(second.rawValue)@"))
            let delivered = harness.delivered.sorted { $0.recipient < $1.recipient }
            #expect(delivered.map(\.recipient) == ["agent@support.example", "lead@support.example"])
            #expect(delivered.allSatisfy { $0.channel == .email && $0.attempts == 1 })
            #expect(delivered.map(\.route).sorted() == ["leads", "people"])
        }
    }

    @Test func aRefusedAddressAndAMissingOneGoToFailedAndAPostponedOneIsRetried() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let harness = try Harness(routes: """
            routes:
              - name: people
                audiences: [customer]
                email: [recipient]
            """, environment: ["NOTIFIER_SMTP_URL": sink.url, "NOTIFIER_MAX_ATTEMPTS": "3"])
        try await harness.run {
            try await harness.publish(.customer, recipient: "reject@customer.example", cause: "a")
            try await harness.publish(.customer, recipient: nil, cause: "b")
            try await harness.publish(.customer, recipient: "defer@customer.example", cause: "c")
            try await harness.publish(.customer, recipient: "spam@customer.example", cause: "d")
            try await eventually("four failures") { harness.failed.count == 4 }
            let failed = Dictionary(uniqueKeysWithValues: harness.failed.map { ($0.recipient, $0) })
            #expect(failed["reject@customer.example"]?.code == "smtp_550")
            #expect(failed["reject@customer.example"]?.attempts == 1)
            #expect(failed[""]?.code == "no_address")
            #expect(failed["defer@customer.example"]?.code == "gave_up", "451 is retried until the attempts run out")
            #expect(failed["defer@customer.example"]?.attempts == 3)
            #expect(failed["spam@customer.example"]?.code == "smtp_554", "a message refused after its data is refused for good")
            #expect(failed["spam@customer.example"]?.attempts == 1)
            #expect(sink.messages.isEmpty)
        }
    }

    @Test func aWebhookArrivesSignedAndTheSignatureVerifies() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let harness = try Harness(routes: """
            webhooks:
              ops:
                url: \(receiver.url("/ok"))
              chat:
                url: \(receiver.url("/ok-slack"))
                format: slack
            routes:
              - name: management
                audiences: [management]
                webhooks: [ops, chat]
            """, environment: ["NOTIFIER_WEBHOOK_OPS_SECRET": Self.secret])
        try await harness.run {
            let id = try await harness.publish(.management, kind: .escalated)
            try await eventually("both webhooks are delivered") { harness.delivered.count == 2 }
            let standard = try #require(receiver.requests.first { $0.path == "/ok" })
            #expect(standard.headers["webhook-id"] == id.rawValue)
            #expect(standard.headers["content-type"] == "application/json")
            let timestamp = try #require(standard.headers["webhook-timestamp"].flatMap { Int64($0) })
            let signature = try #require(standard.headers["webhook-signature"])
            let secret = try #require(WebhookSecret(Self.secret))
            #expect(secret.verifies(header: signature, id: id.rawValue, timestamp: timestamp, body: standard.body))
            #expect(!secret.verifies(header: signature, id: id.rawValue, timestamp: timestamp, body: standard.body + [0x20]))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(standard.body)) as? [String: Any])
            #expect(body["type"] as? String == "notification.escalated")
            #expect((body["data"] as? [String: Any])?["eventId"] as? String == id.rawValue)
            let slack = try #require(receiver.requests.first { $0.path == "/ok-slack" })
            let slackBody = try #require(try JSONSerialization.jsonObject(with: Data(slack.body)) as? [String: Any])
            #expect((slackBody["text"] as? String)?.hasPrefix("*First-response deadline breached: T-1*") == true)
            #expect((slackBody["blocks"] as? [Any])?.count == 3)
            #expect(slack.headers["webhook-signature"] == nil, "no secret given for chat: sent unsigned")
        }
    }

    @Test func fiveHundredThreeTimesThenOKIsDeliveredOnceInTheEndAndFourHundredFails() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let harness = try Harness(routes: """
            webhooks:
              flaky: { url: "\(receiver.url("/flaky/3"))", format: slack }
              broken: { url: "\(receiver.url("/bad"))", format: slack }
              busy: { url: "\(receiver.url("/later"))", format: slack }
            routes:
              - { name: a, audiences: [management], webhooks: [flaky] }
              - { name: b, audiences: [supportLead], webhooks: [broken] }
              - { name: c, audiences: [assignee], webhooks: [busy] }
            """)
        try await harness.run {
            let id = try await harness.publish(.management)
            try await harness.publish(.supportLead, cause: "c2")
            try await harness.publish(.assignee, cause: "c3")
            try await eventually("all three end") { harness.delivered.count == 2 && harness.failed.count == 1 }
            let flaky = receiver.requests.filter { $0.path == "/flaky/3" }
            #expect(flaky.map(\.status) == [500, 500, 500, 200], "exactly one success")
            #expect(Set(flaky.map { $0.headers["webhook-id"] }) == [id.rawValue])
            let delivered = try #require(harness.delivered.first { $0.recipient == "flaky" })
            #expect(delivered.attempts == 4)
            let failure = try #require(harness.failed.first)
            #expect(failure.code == "http_400")
            #expect(failure.recipient == "broken")
            #expect(failure.attempts == 1)
            #expect(receiver.requests.filter { $0.path == "/bad" }.count == 1, "a 400 is not retried")
            let busy = receiver.requests.filter { $0.path == "/later" }
            #expect(busy.map(\.status) == [429, 200])
            #expect(harness.delivered.first { $0.recipient == "busy" }.map { $0.latencyMs >= 0 } == true)
        }
    }

    @Test func aHangingReceiverDoesNotDelayEmail() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let sink = try SMTPSink()
        defer { sink.stop() }
        let harness = try Harness(routes: """
            webhooks:
              stuck: { url: "\(receiver.url("/hang"))", format: slack }
            routes:
              - { name: chat, audiences: [management], webhooks: [stuck] }
              - { name: mail, audiences: [management, supportLead], email: [boss@support.example] }
            """, environment: ["NOTIFIER_SMTP_URL": sink.url, "NOTIFIER_DRAIN_MS": "100"])
        try await harness.run {
            let started = ContinuousClock.now
            try await harness.publish(.management, cause: "one")
            try await harness.publish(.supportLead, cause: "two")
            try await eventually("both mails arrive while the webhook hangs") { sink.messages.count == 2 }
            #expect(ContinuousClock.now - started < .seconds(10), "the webhook's timeout is 30 s")
            // The webhook may reach the receiver after the mails: it is asked, and it hangs.
            try await eventually("the webhook reaches the hanging receiver") { receiver.requests.contains { $0.path == "/hang" } }
            #expect(!harness.delivered.contains { $0.channel == .webhook })
        }
    }

    @Test func startTLSAndAuthReachARelayThatRequiresThem() async throws {
        let directory = NSTemporaryDirectory() + "tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                             "-keyout", "\(directory)/key.pem", "-out", "\(directory)/cert.pem"]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        let sink = try SMTPSink(auth: "mailer:s3cret-pass", certificate: ("\(directory)/cert.pem", "\(directory)/key.pem"))
        defer { sink.stop() }
        let harness = try Harness(routes: """
            routes:
              - { name: leads, audiences: [supportLead], email: [lead@support.example] }
            """, environment: [
                "NOTIFIER_SMTP_URL": sink.url, "NOTIFIER_SMTP_USERNAME": "mailer", "NOTIFIER_SMTP_PASSWORD": "s3cret-pass",
                "NOTIFIER_SMTP_CA_FILE": "\(directory)/cert.pem",
            ])
        try await harness.run {
            try await harness.publish(.supportLead)
            try await eventually("the mail arrives over STARTTLS with AUTH") { sink.messages.count == 1 }
        }
        #expect(sink.messages.first?.contains("X-Envelope-To: lead@support.example") == true)
        // A refused login is the relay's state, not this message's: retried (and the circuit's business), never smtp_535.
        let wrongPassword = try Harness(routes: """
            routes:
              - { name: leads, audiences: [supportLead], email: [lead@support.example] }
            """, environment: [
                "NOTIFIER_SMTP_URL": sink.url, "NOTIFIER_SMTP_USERNAME": "mailer", "NOTIFIER_SMTP_PASSWORD": "wrong-pass",
                "NOTIFIER_SMTP_CA_FILE": "\(directory)/cert.pem", "NOTIFIER_MAX_ATTEMPTS": "2", "NOTIFIER_RETRY_FIRST_MS": "10",
            ])
        try await wrongPassword.run {
            try await wrongPassword.publish(.supportLead)
            try await eventually("the delivery gives up") { wrongPassword.failed.count == 1 }
            let failure = try #require(wrongPassword.failed.first)
            #expect(failure.code == "gave_up")
            #expect(failure.attempts == 2)
            #expect(failure.reason.contains("535"))
            #expect(!failure.reason.contains("wrong-pass"))
        }
        #expect(sink.messages.count == 1)
    }

    @Test func aDeadEndpointHoldsOnlyItsLaneAndTheOtherChannelsFlow() async throws {
        // Window 6, lane capacity 2: without the lane bound, twelve notifications for a dead
        // webhook would fill the window and stall the log channel behind them. (Giving up is
        // `waitingOnAnOpenCircuitCountsTowardGivingUp`'s business.)
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let harness = try Harness(routes: Self.deadWebhookRoutes(receiver) + """
              - { name: desk, audiences: [supportLead], log: true }
            """, environment: [
                "NOTIFIER_MAX_IN_FLIGHT": "6", "NOTIFIER_LANE_CAPACITY": "2", "NOTIFIER_CIRCUIT_THRESHOLD": "1",
                "NOTIFIER_CIRCUIT_COOLDOWN_MS": "600000", "NOTIFIER_RETRY_FIRST_MS": "100", "NOTIFIER_GIVE_UP_AFTER_MS": "1200000",
                "NOTIFIER_DRAIN_MS": "100",
            ])
        try await harness.run {
            for index in 0..<12 {
                try await harness.publish(.management, cause: "dead-\(index)")
                try await harness.publish(.supportLead, cause: "desk-\(index)")
            }
            // The two in the lane wait out a 10-minute circuit; the other ten fail at once.
            try await eventually("every log delivery is made") { harness.delivered.count == 12 }
            try await eventually("the dead deliveries beyond the lane have their outcome") { harness.failed.count == 10 }
            try await Task.sleep(for: .milliseconds(200))
            let codes = Dictionary(grouping: harness.failed, by: \.code).mapValues(\.count)
            #expect(codes == ["circuit_open": 10], "only the lane's two wait for the dead endpoint")
            #expect(harness.failed.allSatisfy { $0.recipient == "dead" && $0.channel == .webhook })
        }
    }

    @Test func aDeliveryGivesUpWhenItsTimeIsOutWhateverItsAttemptsLeft() async throws {
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let harness = try Harness(routes: Self.deadWebhookRoutes(receiver), environment: [
                "NOTIFIER_CIRCUIT_THRESHOLD": "1000", "NOTIFIER_RETRY_FIRST_MS": "200", "NOTIFIER_RETRY_MAX_MS": "200",
                "NOTIFIER_MAX_ATTEMPTS": "1000", "NOTIFIER_GIVE_UP_AFTER_MS": "1500",
            ])
        try await harness.run {
            let started = ContinuousClock.now
            try await harness.publish(.management)
            try await eventually("the delivery gives up") { harness.failed.count == 1 }
            #expect(ContinuousClock.now - started < .seconds(20))
            let failure = try #require(harness.failed.first)
            #expect(failure.code == "gave_up")
            #expect((2...16).contains(failure.attempts), "500s retried every 100-200 ms for 1.5 s, not 1000 times: \(failure.attempts)")
            #expect(receiver.requests.count == failure.attempts)
            #expect(failure.reason.hasPrefix("gave up after \(failure.attempts) attempts"))
        }
        let bad = try #require(throws: ConfigurationError.self) {
            _ = try Harness(routes: "routes:\n  - { name: desk, audiences: [supportLead], log: true }\n",
                            environment: ["NOTIFIER_GIVE_UP_AFTER_MS": "0"])
        }
        #expect(bad.description.contains("NOTIFIER_GIVE_UP_AFTER_MS"))
    }

    /// Management notifications to a webhook that answers 500 every time.
    static func deadWebhookRoutes(_ receiver: WebhookReceiver) -> String {
        """
        webhooks:
          dead: { url: "\(receiver.url("/flaky/100000"))", format: slack }
        routes:
          - { name: chat, audiences: [management], webhooks: [dead] }

        """
    }

    /// The decoded base64 bodies of a multipart message's parts.
    static func base64Parts(_ mail: String) -> [String] {
        mail.components(separatedBy: "Content-Transfer-Encoding: base64\r\n\r\n").dropFirst().map { part in
            let encoded = part.components(separatedBy: "\r\n--").first?.replacingOccurrences(of: "\r\n", with: "") ?? ""
            return String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self)
        }
    }
}
