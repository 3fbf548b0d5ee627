import Foundation
import HelpdeskModel
import Logging
import MessageBus
@testable import ServiceRuntime
import Synchronization
import Testing
import TestSupport

/// The concurrent loop: records handled at once, each publishing when it finishes, and a
/// partition committed only up to its oldest record still in hand.
@Suite("concurrent processing loop")
struct ConcurrentProcessingLoopTests {
    /// Echoes each record to `out`; a record whose value is `hold` waits until released.
    final class Gated: RecordProcessor, @unchecked Sendable {
        let released = Mutex(false)
        func process(_ record: ConsumerRecord) async throws -> [OutgoingRecord] {
            if record.value == Array("hold".utf8) {
                while !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            }
            return [OutgoingRecord(topic: "out", key: "k", value: record.value ?? [], headers: [])]
        }
    }

    func run(
        _ broker: InMemoryBroker, _ processor: some RecordProcessor, drain: Duration = .seconds(10),
        _ body: (GroupMembership) async throws -> Void
    ) async throws {
        let logger = Logger(label: "test")
        let joined = ReadinessFlag()
        let membership = GroupMembership(bus: broker, group: "g", topics: ["in"], instanceID: nil, joined: joined, logger: logger)
        let loop = ConcurrentProcessingLoop(
            service: "test", source: .init(group: "g", topics: ["in"]), publisher: try broker.makePublisher(),
            processor: processor, settings: ProcessingSettings(),
            concurrency: ConcurrencySettings(maxInFlight: 100, drainTimeout: drain, commitInterval: .milliseconds(10)),
            outputTopics: ["out"], joined: joined, stall: StallWatch(), membership: membership, logger: logger, now: Date.init)
        let running = Task { try await loop.run() }
        try await eventually("joined") { joined.isSet }
        try await body(membership)
        running.cancel()
        _ = try? await running.value
    }

    func committed(_ broker: InMemoryBroker) async throws -> Int64? {
        try await broker.makeQueries().committed([TopicPartition("in", 0)], ofGroup: "g")[TopicPartition("in", 0)]
    }

    @Test func aHeldRecordHoldsBackItsPartitionsCommitButNotTheRecordsAfterIt() async throws {
        let broker = InMemoryBroker(defaultPartitions: 1)
        broker.createTopic("in", partitions: 1)
        let processor = Gated()
        try await run(broker, processor) { _ in
            let values = ["a", "hold", "b", "c"]
            _ = try await broker.makePublisher().publish(values.map {
                OutgoingRecord(topic: "in", key: "k", value: Array($0.utf8), headers: [])
            })
            try await eventually("the records after the held one are out") { broker.records(in: "out").count == 3 }
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await committed(broker) == 1, "committed up to the held record, not past it")
            processor.released.withLock { $0 = true }
            try await eventually("the held record is out") { broker.records(in: "out").count == 4 }
            try await eventuallyAsync { try await committed(broker) == 4 }
        }
    }

    @Test func aRecordStillInHandAtShutdownIsLeftUncommittedForTheNextOwner() async throws {
        let broker = InMemoryBroker(defaultPartitions: 1)
        broker.createTopic("in", partitions: 1)
        let processor = Gated()
        try await run(broker, processor, drain: .milliseconds(50)) { _ in
            _ = try await broker.makePublisher().publish(["a", "hold"].map {
                OutgoingRecord(topic: "in", key: "k", value: Array($0.utf8), headers: [])
            })
            try await eventually("the first is out") { broker.records(in: "out").count == 1 }
        }
        #expect(try await committed(broker) == 1)
        #expect(broker.records(in: "out").count == 1)
    }

    func eventuallyAsync(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
