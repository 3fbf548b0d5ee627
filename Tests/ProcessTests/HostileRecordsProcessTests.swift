import Foundation
import HelpdeskModel
import KafkaTransport
import Logging
import MessageBus
import Testing

/// The records that stopped the pipeline, sent to the real `intake` and `sla-timer` on the
/// embedded broker: each service stays up and ready, the next ordinary ticket flows through,
/// and the bad records are in `deadletter` with their reasons.
@Suite("hostile records across processes", .serialized, .timeLimit(.minutes(3)))
struct HostileRecordsProcessTests {
    typealias Line = IntakeProcessTests.Line

    /// A producer that, unlike the services', sends records of up to 10 MB.
    static func publish(_ records: [OutgoingRecord], bootstrap: String) async throws {
        var logger = Logger(label: "hostile-producer")
        logger.logLevel = .critical
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: bootstrap, ["message.max.bytes": "10485760"]), logger: logger)
        _ = try await producer.publish(records)
        await producer.close()
    }

    static func classified(_ externalId: String, openedAt: Date) throws -> OutgoingRecord {
        let ticketId = TicketID(source: "crm", externalId: externalId)
        let event = Event(emittedBy: "classifier", causedBy: externalId, ticketId: ticketId, source: "crm", externalId: externalId,
                          at: Date(), payload: TicketClassified(severity: .minor, signals: [], confidence: 1, reportedSeverity: nil,
                                                                disagreesWithReporter: false, needsDedicatedContact: false,
                                                                openedAt: openedAt))
        return OutgoingRecord(topic: Topics.classified, key: ticketId.rawValue, value: try WireJSON.encode(event))
    }

    static func opened(_ externalId: String, openedAt: String? = nil) -> OutgoingRecord {
        let opened = openedAt.map { #","openedAt":"\#($0)""# } ?? ""
        return OutgoingRecord(topic: Topics.inbound, key: "crm/\(externalId)", value: Array(
            #"{"type":"ticket.opened","source":"crm","externalId":"\#(externalId)","organizationId":"acme","subject":"s"\#(opened)}"#.utf8))
    }

    @Test func aPoisonPillAndOversizedRecordsStopNothing() async throws {
        let (broker, bootstrap, policyFile) = try await SLATimerProcessTests.startBroker(partitions: 6)
        defer { try? FileManager.default.removeItem(atPath: policyFile) }
        let intakePort = freePort()
        let intake = try ChildProcess(Binaries.path("intake"), [], environment: [
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HTTP_PORT": String(intakePort), "LOG_LEVEL": "warning",
        ])
        let timer = try SLATimerProcessTests.Instance("sla-timer", bootstrap: bootstrap, policyFile: policyFile)
        try await waitFor("intake and the sla-timer ready") {
            let intakeReady = await httpGet(intakePort, "/readyz")?.status == 200
            let timerReady = await timer.ready
            return intakeReady && timerReady
        }

        try await Self.publish([
            OutgoingRecord(topic: Topics.inbound, key: "crm/BIG", value: [UInt8](repeating: 0x7B, count: 3 << 20)),
            OutgoingRecord(topic: Topics.inbound, key: "crm/HEADER", value: Array("nope".utf8),
                           headers: [RecordHeader("x-padding", [UInt8](repeating: 0x61, count: 2_500_000)),
                                     RecordHeader("dlq.error.code", "forged")]),
            Self.opened("ANCIENT", openedAt: "0001-01-01T00:00:00Z"),
            try Self.classified("ANCIENT-CLOCK", openedAt: ISO8601.parse("0001-01-01T00:00:00Z")!),
        ], bootstrap: bootstrap)
        try await Self.publish([Self.opened("NEXT"), try Self.classified("NEXT-CLOCK", openedAt: Date())], bootstrap: bootstrap)

        let tail = try ChildProcess(Binaries.path("helpdesk"), [
            "tail", "deadletter", "tickets.received", "sla.events", "--format", "json", "--bootstrap-servers", bootstrap,
        ])
        func records() -> [Line] {
            tail.output.compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }.filter { $0.event == "record" }
        }
        func event(_ type: String, _ externalId: String) -> Bool {
            let key = TicketID(source: "crm", externalId: externalId).rawValue
            return records().contains { $0.topic == "sla.events" && $0.key == key && $0.headers?["ce_type"] == type }
        }
        try await waitFor("the next tickets through, the bad records dead-lettered", seconds: 60) {
            records().filter { $0.topic == "deadletter" }.count >= 3
                && records().contains { $0.topic == "tickets.received" && $0.key == TicketID(source: "crm", externalId: "NEXT").rawValue }
                && event("sla.started", "NEXT-CLOCK") && event("sla.breached", "ANCIENT-CLOCK")
        }
        let dead = Dictionary(records().filter { $0.topic == "deadletter" }.map { ($0.key ?? "", $0.headers ?? [:]) }) { a, _ in a }
        #expect(dead["crm/BIG"]?["dlq.error.code"] == "too_large")
        #expect(dead["crm/BIG"]?["dlq.original.bytes"] == String(3 << 20))
        #expect(dead["crm/HEADER"]?["dlq.error.code"] == "too_large")
        #expect(dead["crm/HEADER"]?["dlq.dropped.headers"] == "x-padding (2500009 bytes)")
        #expect(dead["crm/HEADER"]?["original.dlq.error.code"] == "forged")
        #expect(dead["crm/ANCIENT"]?["dlq.error.code"] == "invalid_fields")
        #expect(dead["crm/ANCIENT"]?["dlq.error"]?.hasPrefix("openedAt: 0001-01-01T00:00:00Z is more than 7 days") == true)

        #expect(await httpGet(intakePort, "/readyz")?.status == 200, "intake still ready")
        #expect(await timer.ready, "the sla-timer still ready")
        #expect(await tail.terminate() == 0)
        #expect(await intake.terminate() == 0, "intake stops on SIGTERM")
        #expect(await timer.process.terminate() == 0, "the sla-timer stops on SIGTERM")
        #expect(await broker.terminate() == 0)
    }
}
