import Foundation
import MessageBus
import Testing

@testable import KafkaTransport

/// The Kafka backend's hand-over between its poll thread and the loop, driven directly.
@Suite("consumer event buffer")
struct ConsumerEventBufferTests {
    func record(_ partition: Int32, _ offset: Int64) -> ConsumerEvent {
        .record(ConsumerRecord(topic: "t", partition: partition, offset: offset, key: nil, value: nil, headers: [],
                               timestamp: Date(timeIntervalSince1970: 0)))
    }

    /// Waits on the cooperative pool without blocking it (other tests share it); bounded so a
    /// broken buffer fails instead of hanging.
    func until(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func aRevocationDropsTheUntakenRecordsOfItsPartitionsAndComesNext() async throws {
        let buffer = ConsumerEventBuffer(capacity: 1_000)
        let p0 = TopicPartition("t", 0), p1 = TopicPartition("t", 1)
        buffer.push(.assigned([p0, p1]))
        for offset in 0..<100 { buffer.push(record(Int32(offset % 2), Int64(offset / 2))) }
        #expect(try await buffer.take(max: 11).count == 11, "the assignment and ten records")

        // librdkafka revokes partition 0 (cooperatively) while 90 records wait: the poll thread
        // blocks in the callback until the loop has asked past the revocation (the timeout is
        // only a guard against a stuck application).
        let released = AtomicFlag(false)
        Thread {
            buffer.pushRevocationAndWait([p0], timeout: 3_600)
            released.set(true)
        }.start()
        try await until("the revocation queued") { buffer.isRevoking }
        var handedOut = [ConsumerEvent]()
        while !handedOut.contains(.revoked([p0])) { handedOut += try await buffer.take(max: 500) }
        let records = handedOut.compactMap { event -> ConsumerRecord? in
            if case .record(let record) = event { return record } else { return nil }
        }
        #expect(records.allSatisfy { $0.partition == 1 }, "no record of the revoked partition after it was revoked")
        #expect(records.count == 45, "partition 1's records still waiting are kept")
        #expect(handedOut.last == .revoked([p0]))
        #expect(!released.value, "the callback waits until the loop asks again")

        buffer.push(record(1, 50))
        #expect(try await buffer.take(max: 10) == [record(1, 50)])
        try await until("the callback released") { released.value }
    }
}
