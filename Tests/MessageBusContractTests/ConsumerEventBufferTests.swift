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

    @Test func aRevocationDropsTheUntakenRecordsOfItsPartitionsAndComesNext() async throws {
        let buffer = ConsumerEventBuffer(capacity: 1_000)
        let p0 = TopicPartition("t", 0), p1 = TopicPartition("t", 1)
        buffer.push(.assigned([p0, p1]))
        for offset in 0..<100 { buffer.push(record(Int32(offset % 2), Int64(offset / 2))) }
        #expect(try await buffer.take(max: 11).count == 11, "the assignment and ten records")

        // librdkafka revokes partition 0 (cooperatively) while 90 records wait: the poll thread
        // blocks in the callback until the loop has asked past the revocation.
        let done = DispatchSemaphore(value: 0)
        Thread {
            buffer.pushRevocationAndWait([p0], timeout: 10)
            done.signal()
        }.start()
        let queued = ContinuousClock.now + .seconds(5)
        while !buffer.isRevoking, ContinuousClock.now < queued { try await Task.sleep(for: .milliseconds(1)) }
        #expect(buffer.isRevoking)
        var handedOut = [ConsumerEvent]()
        while !handedOut.contains(.revoked([p0])) { handedOut += try await buffer.take(max: 500) }
        let records = handedOut.compactMap { event -> ConsumerRecord? in
            if case .record(let record) = event { return record } else { return nil }
        }
        #expect(records.allSatisfy { $0.partition == 1 }, "no record of the revoked partition after it was revoked")
        #expect(records.count == 45, "partition 1's records still waiting are kept")
        #expect(handedOut.last == .revoked([p0]))
        #expect(done.wait(timeout: .now() + 0.2) == .timedOut, "the callback waits until the loop asks again")

        buffer.push(record(1, 50))
        #expect(try await buffer.take(max: 10) == [record(1, 50)])
        #expect(done.wait(timeout: .now() + 5) == .success, "asking again released the callback")
    }
}
