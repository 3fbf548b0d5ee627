import Foundation
import HelpdeskModel
import MessageBus
import Testing
import TestSupport

/// The `notifier` executable on the embedded broker, delivering to a real SMTP server and a
/// real HTTP receiver, SIGKILLed mid-stream and restarted: every notification is delivered at
/// least once, and none is seen by a receiver more than twice (its id is the same each time).
@Suite("notifier process", .serialized)
struct NotifierProcessTests {
    @Test func aKilledNotifierLosesNothingAndRepeatsAtMostOnce() async throws {
        let count = 400
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let sink = try SMTPSink()
        defer { sink.stop() }
        let broker = try ChildProcess(Binaries.path("helpdesk"), ["broker", "--partitions", "3"], stdin: Pipe())
        try await waitFor("the broker's bootstrap line") { !broker.output.isEmpty }
        let bootstrap = broker.output[0]
        let routesFile = NSTemporaryDirectory() + "routes-\(UUID().uuidString.prefix(8)).yaml"
        try """
            webhooks:
              desk: { url: "\(receiver.url("/slow"))" }
            routes:
              - { name: leads, audiences: [supportLead], webhooks: [desk], email: [lead@support.example] }
            """.write(toFile: routesFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: routesFile) }
        let environment = [
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HTTP_PORT": "0", "NOTIFIER_ROUTES_FILE": routesFile,
            "NOTIFIER_SMTP_URL": sink.url, "NOTIFIER_WEBHOOK_DESK_SECRET": "whsec_" + Data(repeating: 7, count: 24).base64EncodedString(),
            "NOTIFIER_WEBHOOK_CONCURRENCY": "2", "NOTIFIER_SMTP_CONCURRENCY": "2",
            "LOG_LEVEL": ProcessInfo.processInfo.environment["PROCESS_TEST_LOG_LEVEL"] ?? "warning",
        ]
        var ids = [String]()
        let lines = (0..<count).map { index -> String in
            let ticket = "N-\(index)"
            let record = OutgoingRecord.notification(
                HelpdeskModel.Notification(audience: .supportLead, kind: .slaWarning, severity: .major,
                                           subject: "First response due soon: \(ticket)", text: "Due soon.",
                                           causedBy: EventID.derive(["n", ticket])),
                ticketId: TicketID(source: "crm", externalId: ticket), source: "crm", externalId: ticket,
                at: Date(timeIntervalSince1970: 1_800_000_000), producer: "sla-timer")
            ids.append((try? WireJSON.decode(EventEnvelope.self, from: record.value ?? []).eventId.rawValue) ?? "")
            return record.key.map { String(decoding: $0, as: UTF8.self) }! + "|" + String(decoding: record.value ?? [], as: UTF8.self)
        }
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: Topics.notifications, lines: lines) == 0)

        func webhookIDs() -> [String] { receiver.requests.compactMap { $0.headers["webhook-id"] } }
        func messageIDs() -> [String] {
            sink.messages.compactMap { mail in
                mail.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: <") }.map {
                    String($0.dropFirst("Message-ID: <".count).prefix { $0 != "@" })
                }
            }
        }
        var kills = 0
        var notifier = try ChildProcess(Binaries.path("notifier"), [], environment: environment)
        // One kill: each crash may repeat the notifications then in hand (at most NOTIFIER_MAX_IN_FLIGHT), once.
        for threshold in [120] {
            try await waitFor("deliveries under way", seconds: 60) { Set(webhookIDs()).count >= threshold }
            await notifier.killHard()
            kills += 1
            notifier = try ChildProcess(Binaries.path("notifier"), [], environment: environment)
        }
        try await settle(within: 120) { Set(webhookIDs()).count == count && Set(messageIDs()).count == count }
        #expect(await notifier.terminate() == 0)
        let webhooks = Dictionary(grouping: webhookIDs(), by: { $0 }).mapValues(\.count)
        let mails = Dictionary(grouping: messageIDs(), by: { $0 }).mapValues(\.count)
        #expect(Set(webhooks.keys) == Set(ids), "every notification reached the webhook")
        #expect(Set(mails.keys) == Set(ids), "every notification reached the mailbox")
        #expect(webhooks.values.allSatisfy { $0 <= 2 }, "no webhook-id more than twice: \(webhooks.values.max() ?? 0)")
        #expect(mails.values.allSatisfy { $0 <= 2 }, "no Message-ID more than twice: \(mails.values.max() ?? 0)")
        print("notifier SIGKILL run: \(kills) kills, \(webhookIDs().count) webhook requests and \(messageIDs().count) mails for \(count) notifications")
        _ = await broker.terminate()
    }
}
