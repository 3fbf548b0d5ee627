import Foundation
import HelpdeskModel
import Logging
import MessageBus
import ServiceLifecycle
import ServiceRuntime
import Synchronization
import Testing

let failedAt = ISO8601.parse("2026-03-06T23:30:00Z")!

func consumedRecord(value: [UInt8], headers: [RecordHeader] = []) -> ConsumerRecord {
    ConsumerRecord(topic: "tickets.inbound", partition: 3, offset: 41, key: Array("crm/1".utf8), value: value, headers: headers,
                   timestamp: failedAt)
}

func brokerSize(_ record: OutgoingRecord) -> Int {
    (record.key?.count ?? 0) + (record.value?.count ?? 0) + record.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.count }
}

/// Refuses every record on `refusing` as a broker refuses one over its size limit.
final class RefusingPublisher: RecordPublisher {
    let inner: any RecordPublisher
    let refuses: @Sendable (OutgoingRecord) -> Bool

    init(inner: any RecordPublisher, refuses: @escaping @Sendable (OutgoingRecord) -> Bool) {
        self.inner = inner
        self.refuses = refuses
    }

    func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] {
        if let index = records.firstIndex(where: refuses) {
            throw BusError.recordRefused(topic: records[index].topic, index: index, reason: "MSG_SIZE_TOO_LARGE: Broker: Message size too large")
        }
        return try await inner.publish(records)
    }

    func close() async {}
}

/// Always fails as an unreachable broker does.
final class DownPublisher: RecordPublisher {
    let attempts = Atomic<Int>(0)
    func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] {
        attempts.add(1, ordering: .relaxed)
        throw BusError.deliveryFailed(topic: records[0].topic, reason: "Local: Broker transport failure")
    }
    func close() async {}
}

@Suite("Dead letters and stuck publishes")
struct DeadLetterTests {
    @Test func aDeadLetterThatFitsKeepsEverythingAndRenamesForgedHeaders() {
        let original = consumedRecord(value: Array("{nope".utf8), headers: [
            RecordHeader("origin", "crm"), RecordHeader("dlq.error.code", "forged"), RecordHeader("dlq.topic", "elsewhere"),
        ])
        let letter = DeadLetter.record(for: original, code: "not_json", reason: "the record is not JSON", service: "intake", at: failedAt)
        #expect(letter.value == original.value)
        #expect(letter.headers.string(for: DeadLetter.Header.errorCode) == "not_json")
        #expect(letter.headers.string(for: DeadLetter.Header.topic) == "tickets.inbound")
        #expect(letter.headers.filter { $0.name == DeadLetter.Header.errorCode }.count == 1)
        #expect(letter.headers.string(for: "original.dlq.error.code") == "forged")
        #expect(letter.headers.string(for: "original.dlq.topic") == "elsewhere")
        #expect(letter.headers.string(for: "origin") == "crm")
        #expect(!DeadLetter.isBounded(letter))
    }

    @Test(arguments: [
        (3 << 20, 0, "a 3 MB value"),
        (40, 2_500_000, "a 2.5 MB header on a small invalid value"),
    ])
    func aDeadLetterTooLargeForTheBrokerIsWrittenBounded(valueBytes: Int, headerBytes: Int, what: String) {
        let value = [UInt8](repeating: 0x7B, count: valueBytes)
        var headers = [RecordHeader("origin", "crm")]
        if headerBytes > 0 { headers.append(RecordHeader("x-padding", [UInt8](repeating: 0x61, count: headerBytes))) }
        let letter = DeadLetter.record(for: consumedRecord(value: value, headers: headers), code: "not_json",
                                       reason: "the record is not JSON", service: "intake", at: failedAt)
        #expect(brokerSize(letter) <= DeadLetter.maxBytes, "\(what)")
        #expect(brokerSize(letter) < 64 * 1024, "\(what)")
        #expect(DeadLetter.isBounded(letter))
        #expect(letter.headers.string(for: DeadLetter.Header.errorCode) == "too_large")
        #expect(letter.headers.string(for: DeadLetter.Header.error)?.hasPrefix("the record is not JSON; the dead letter would be") == true)
        #expect(letter.headers.string(for: DeadLetter.Header.originalBytes) == String(valueBytes))
        #expect(letter.headers.string(for: DeadLetter.Header.originalSHA256)
            == SHA256.digest(value).map { String(format: "%02x", $0) }.joined())
        #expect(letter.value == Array(value.prefix(DeadLetter.keptValueBytes)))
        #expect(letter.headers.string(for: DeadLetter.Header.offset) == "41")
        #expect(letter.headers.string(for: "origin") == "crm")
        if headerBytes > 0 {
            #expect(letter.headers.string(for: DeadLetter.Header.droppedHeaders) == "x-padding (\(headerBytes + 9) bytes)")
            #expect(letter.headers.value(for: "x-padding") == nil)
        }
    }

    @Test func anOutputTheBrokerRefusesBecomesItsBoundedDeadLetterAndTheLoopMovesOn() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        try await publish(broker, ["one", "huge", "two"])
        // The broker refuses the processor's output for "huge" for good.
        let publisher = RefusingPublisher(inner: try broker.makePublisher()) { $0.value == Array("HUGE".utf8) && $0.topic == "out" }
        try await runUntil(try makeLoop(broker, UppercasingProcessor(), publisher: publisher)) {
            broker.records(in: "out").count == 2 && broker.records(in: "deadletter").count == 1
        }
        let letter = try #require(broker.records(in: "deadletter").first)
        #expect(letter.headers.string(for: DeadLetter.Header.errorCode) == "refused_by_broker")
        #expect(letter.headers.string(for: DeadLetter.Header.topic) == "out")
        #expect(letter.headers.string(for: DeadLetter.Header.error)?.contains("Message size too large") == true)
        #expect(letter.value == Array("HUGE".utf8))
        #expect(try await committedEverything(broker))
    }

    @Test func aDeadLetterTheBrokerRefusesIsWrittenAgainBounded() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        try await publish(broker, ["bad-one", "two"])
        // A broker whose limit is below the dead letter's size: only bounded ones get through.
        let publisher = RefusingPublisher(inner: try broker.makePublisher()) { $0.topic == "deadletter" && !DeadLetter.isBounded($0) }
        try await runUntil(try makeLoop(broker, UppercasingProcessor(), publisher: publisher)) {
            broker.records(in: "deadletter").count == 1 && broker.records(in: "out").count == 1
        }
        let letter = try #require(broker.records(in: "deadletter").first)
        #expect(letter.headers.string(for: DeadLetter.Header.errorCode) == "not_json")
        #expect(letter.headers.string(for: DeadLetter.Header.error)?.hasPrefix("the record is not JSON; the broker refused the dead letter") == true)
        #expect(letter.headers.string(for: DeadLetter.Header.offset) != nil)
        #expect(try await committedEverything(broker))
    }

    @Test func aPublishThatKeepsFailingTurnsReadinessFalseAndShutdownEndsIt() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        try await publish(broker, ["one"])
        let now = Mutex(failedAt)
        let stall = StallWatch(after: .seconds(10)) { now.withLock { $0 } }
        let down = DownPublisher()
        let loop = ProcessingLoop(
            service: "test-service", bus: broker, source: .init(group: "workers", topics: ["in"]), publisher: down,
            processor: UppercasingProcessor(), settings: ProcessingSettings(maxBatch: 50, maxAttempts: 3, retryBackoff: .milliseconds(1)),
            stall: stall, logger: quietLogger())
        #expect(!stall.isStalled)
        // SIGTERM while the broker refuses every publish: the loop ends, and commits nothing.
        try await runUntil(loop) {
            guard down.attempts.load(ordering: .relaxed) >= 3 else { return false }
            #expect(!stall.isStalled, "not yet: the first failure was less than 10 s ago")
            now.withLock { $0 = $0.addingTimeInterval(10) }
            return stall.isStalled
        }
        #expect(broker.records(in: "out").isEmpty)
        #expect(try await !committedEverything(broker))
        stall.progressed()
        #expect(!stall.isStalled)
    }
}
