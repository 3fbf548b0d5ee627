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

    /// Refuses the records whose value is `poison`, and their dead letters, for good.
    struct Refusing: RecordPublisher {
        let inner: any RecordPublisher
        func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] {
            if let index = records.firstIndex(where: { $0.value == Array("poison".utf8) || $0.topic == Topics.deadletter }) {
                throw BusError.recordRefused(topic: records[index].topic, index: index, reason: "refused by the test")
            }
            return try await inner.publish(records)
        }
        func close() async { await inner.close() }
        var isReachable: Bool { true }
    }

    func run(
        _ broker: InMemoryBroker, _ processor: some RecordProcessor, drain: Duration = .seconds(10),
        publisher: (any RecordPublisher)? = nil, _ body: (GroupMembership) async throws -> Void
    ) async throws {
        let logger = Logger(label: "test")
        let joined = ReadinessFlag()
        let membership = GroupMembership(bus: broker, group: "g", topics: ["in"], instanceID: nil, joined: joined, logger: logger)
        let loop = ConcurrentProcessingLoop(
            service: "test", source: .init(group: "g", topics: ["in"]), publisher: try publisher ?? broker.makePublisher(),
            processor: processor, settings: ProcessingSettings(),
            concurrency: ConcurrencySettings(maxInFlight: 100, drainTimeout: drain, commitInterval: .milliseconds(10)),
            outputTopics: ["out"], joined: joined, stall: StallWatch(), membership: membership, logger: logger, now: Date.init)
        let running = Task { try await loop.run() }
        try await eventually("joined", within: .seconds(60)) { joined.isSet }
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

    @Test func aRecordThatCannotBeFinishedStopsTheLoopWithoutCommittingPastIt() async throws {
        let broker = InMemoryBroker(defaultPartitions: 1)
        broker.createTopic("in", partitions: 1)
        let logger = Logger(label: "test")
        let joined = ReadinessFlag()
        let membership = GroupMembership(bus: broker, group: "g", topics: ["in"], instanceID: nil, joined: joined, logger: logger)
        let loop = ConcurrentProcessingLoop(
            service: "test", source: .init(group: "g", topics: ["in"]), publisher: Refusing(inner: try broker.makePublisher()),
            processor: Gated(), settings: ProcessingSettings(),
            concurrency: ConcurrencySettings(maxInFlight: 100, drainTimeout: .seconds(5), commitInterval: .milliseconds(10)),
            outputTopics: ["out"], joined: joined, stall: StallWatch(), membership: membership, logger: logger, now: Date.init)
        let running = Task { try await loop.run() }
        try await eventually("joined", within: .seconds(60)) { joined.isSet }
        _ = try await broker.makePublisher().publish(["a", "poison", "b", "c"].map {
            OutgoingRecord(topic: "in", key: "k", value: Array($0.utf8), headers: [])
        })
        // A regression would wait for records forever: cancelled after 30 s, it fails here instead.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            running.cancel()
        }
        defer { watchdog.cancel() }
        await #expect(throws: BusError.self, "the loop stops: the service restarts rather than lose the record") {
            try await running.value
        }
        #expect(try await committed(broker) == 1, "never past the record that could not be finished")
        let out = broker.records(in: "out").map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(out.contains("a") && !out.contains("poison"))
    }

    @Test func anAbandonedRecordIsAFloorThatLaterRecordsDoNotLift() {
        let tracker = InFlightRecords()
        let partition = TopicPartition("in", 0)
        for offset in Int64(0)..<3 { tracker.starting(partition, offset) { Task {} } }
        tracker.finished(partition, 0)
        tracker.abandoned(partition, 1, failure: nil)
        tracker.finished(partition, 2)
        #expect(tracker.committable() == [partition: 1])
        tracker.committed([partition: 1])
        tracker.starting(partition, 3) { Task {} }
        tracker.finished(partition, 3)
        #expect(tracker.committable().isEmpty, "a record started after the abandoned one does not lift the floor")
        #expect(tracker.failure == nil, "a cancellation is not a failure")
        tracker.abandoned(partition, 3, failure: BusError.commitFailed("x"))
        #expect(tracker.failure != nil)
        tracker.forget([partition])
        tracker.starting(partition, 1) { Task {} }
        tracker.finished(partition, 1)
        #expect(tracker.committable() == [partition: 2], "a partition assigned again starts afresh")
    }

    @Test func stoppingThePeriodicCommitterWaitsForTheCommitUnderWay() async throws {
        let log = Mutex<[String]>([])
        let committer = PeriodicCommitter(interval: .milliseconds(1)) {
            log.withLock { $0.append("begin") }
            await Task { try? await Task.sleep(for: .milliseconds(30)) }.value
            log.withLock { $0.append("end") }
        }
        committer.start()
        try await eventually("a commit began", within: .seconds(60)) { log.withLock { $0.contains("begin") } }
        await committer.stop()
        let stopped = log.withLock { $0 }
        #expect(stopped.last == "end", "no commit is left running once stop returns")
        try await Task.sleep(for: .milliseconds(20))
        #expect(log.withLock { $0 } == stopped, "nothing commits after stop")
    }

    func eventuallyAsync(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
