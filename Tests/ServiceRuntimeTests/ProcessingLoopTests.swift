import Foundation
import HelpdeskModel
import Logging
import MessageBus
import ServiceLifecycle
import ServiceRuntime
import Synchronization
import Testing

/// Upper-cases values; refuses values starting with "bad"; fails transiently as scripted.
final class UppercasingProcessor: RecordProcessor {
    let transientFailures = Mutex<[String: Int]>([:])
    let calls = Mutex<[String]>([])

    func failTransiently(_ value: String, times: Int) { transientFailures.withLock { $0[value] = times } }

    func process(_ record: ConsumerRecord) async throws -> [OutgoingRecord] {
        let text = String(decoding: record.value ?? [], as: UTF8.self)
        calls.withLock { $0.append(text) }
        if text.hasPrefix("bad") { throw UnprocessableRecord(code: "not_json", reason: "the record is not JSON") }
        let fail = transientFailures.withLock { failures -> Bool in
            guard let left = failures[text], left > 0 else { return false }
            failures[text] = left - 1
            return true
        }
        if fail { throw BusError.unavailable("scripted transient failure") }
        return [OutgoingRecord(topic: "out", key: record.key, value: Array(text.uppercased().utf8))]
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) async throws {
        calls.withLock { $0.append("assigned \(partitions.count)") }
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) async {
        calls.withLock { $0.append("revoked \(partitions.count)") }
    }
}

/// Fails the first `failures` publish calls, noting what had been committed at each failure.
final class FlakyPublisher: RecordPublisher {
    let inner: any RecordPublisher
    let failuresLeft: Mutex<Int>
    let committedAtFailure = Mutex<[[TopicPartition: Int64]]>([])
    let committedProbe: @Sendable () async -> [TopicPartition: Int64]

    init(inner: any RecordPublisher, failures: Int, committedProbe: @escaping @Sendable () async -> [TopicPartition: Int64]) {
        self.inner = inner
        self.failuresLeft = Mutex(failures)
        self.committedProbe = committedProbe
    }

    func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] {
        let fail = failuresLeft.withLock { left -> Bool in
            defer { left = max(0, left - 1) }
            return left > 0
        }
        if fail {
            let committed = await committedProbe()
            committedAtFailure.withLock { $0.append(committed) }
            throw BusError.deliveryFailed(topic: "out", reason: "scripted outage")
        }
        return try await inner.publish(records)
    }

    func close() async {}
}

func quietLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}

func makeLoop(_ broker: InMemoryBroker, _ processor: any RecordProcessor, publisher: (any RecordPublisher)? = nil,
              joined: ReadinessFlag = ReadinessFlag()) throws -> ProcessingLoop {
    ProcessingLoop(
        service: "test-service", bus: broker, source: .init(group: "workers", topics: ["in"]),
        publisher: try publisher ?? broker.makePublisher(), processor: processor,
        settings: ProcessingSettings(maxBatch: 50, maxAttempts: 3, retryBackoff: .zero), joined: joined,
        logger: quietLogger(), now: { ISO8601.parse("2026-03-06T23:30:00Z")! })
}

/// Runs the loop in a service group until `condition` holds, then shuts it down gracefully.
func runUntil(_ loop: ProcessingLoop, _ condition: @escaping @Sendable () async -> Bool) async throws {
    let group = ServiceGroup(services: [loop], logger: quietLogger())
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        tasks.addTask {
            let deadline = ContinuousClock.now + .seconds(60)
            while await !condition() {
                guard ContinuousClock.now < deadline else { throw CancellationError() }
                try await Task.sleep(for: .milliseconds(5))
            }
            await group.triggerGracefulShutdown()
        }
        try await tasks.waitForAll()
    }
}

func publish(_ broker: InMemoryBroker, _ values: [String]) async throws {
    let publisher = try broker.makePublisher()
    _ = try await publisher.publish(values.enumerated().map {
        OutgoingRecord(topic: "in", key: "key-\($0.offset % 5)", value: Array($0.element.utf8), headers: [RecordHeader("origin", "test")])
    })
}

func committedEverything(_ broker: InMemoryBroker) async throws -> Bool {
    let probe = try await broker.subscribe(group: "probe-\(UUID())", topics: ["in"])
    defer { Task { try await probe.close() } }
    let partitions = (0..<6).map { TopicPartition("in", Int32($0)) }
    let subscription = try await broker.subscribe(group: "workers", topics: ["in"])
    let committed = try await subscription.committed(partitions)
    try await subscription.close()
    let ends = Dictionary(grouping: broker.records(in: "in"), by: \.topicPartition).mapValues { Int64($0.count) }
    return committed == ends
}

@Suite("Processing loop") struct ProcessingLoopTests {
    @Test func outputsArePublishedBadRecordsDeadLetteredAndOffsetsCommitted() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        let processor = UppercasingProcessor()
        try await publish(broker, ["one", "bad-1", "two", "three", "bad-2"])
        let loop = try makeLoop(broker, processor)
        try await runUntil(loop) { broker.records(in: "out").count + broker.records(in: "deadletter").count == 5 }

        #expect(Set(broker.records(in: "out").map { String(decoding: $0.value!, as: UTF8.self) }) == ["ONE", "TWO", "THREE"])
        let dead = broker.records(in: "deadletter")
        #expect(dead.count == 2)
        let original = broker.records(in: "in").first { $0.value == Array("bad-1".utf8) }!
        let letter = dead.first { $0.value == Array("bad-1".utf8) }!
        #expect(letter.key == original.key)
        #expect(letter.headers.string(for: "origin") == "test")
        #expect(letter.headers.string(for: DeadLetter.Header.topic) == "in")
        #expect(letter.headers.string(for: DeadLetter.Header.partition) == String(original.partition))
        #expect(letter.headers.string(for: DeadLetter.Header.offset) == String(original.offset))
        #expect(letter.headers.string(for: DeadLetter.Header.errorCode) == "not_json")
        #expect(letter.headers.string(for: DeadLetter.Header.error) == "the record is not JSON")
        #expect(letter.headers.string(for: DeadLetter.Header.service) == "test-service")
        #expect(letter.headers.string(for: DeadLetter.Header.failedAt) == "2026-03-06T23:30:00Z")
        #expect(try await committedEverything(broker))
    }

    @Test func transientFailuresAreRetriedThenDeadLettered() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        let processor = UppercasingProcessor()
        processor.failTransiently("flaky", times: 2)
        processor.failTransiently("broken", times: 100)
        try await publish(broker, ["flaky", "broken"])
        try await runUntil(try makeLoop(broker, processor)) {
            broker.records(in: "out").count + broker.records(in: "deadletter").count == 2
        }
        #expect(broker.records(in: "out").map(\.value) == [Array("FLAKY".utf8)])
        let letter = try #require(broker.records(in: "deadletter").first)
        #expect(letter.headers.string(for: DeadLetter.Header.errorCode) == "retries_exhausted")
        #expect(letter.headers.string(for: DeadLetter.Header.error)?.hasPrefix("gave up after 3 attempts") == true)
        #expect(processor.calls.withLock { $0.filter { $0 == "flaky" }.count } == 3)
        #expect(processor.calls.withLock { $0.filter { $0 == "broken" }.count } == 3)
    }

    @Test func offsetsAreCommittedOnlyAfterTheOutputsWereAcknowledged() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        try await publish(broker, ["a", "b", "c"])
        // Commits are observed through the group itself: nothing may be committed while publishing fails.
        let observed = FlakyPublisher(inner: try broker.makePublisher(), failures: 3) {
            let partitions = (0..<6).map { TopicPartition("in", Int32($0)) }
            let member = try? await broker.subscribe(group: "workers", topics: ["in"])
            let committed = (try? await member?.committed(partitions)) ?? nil
            try? await member?.close()
            return committed ?? [:]
        }
        try await runUntil(try makeLoop(broker, UppercasingProcessor(), publisher: observed)) {
            broker.records(in: "out").count == 3
        }
        #expect(observed.committedAtFailure.withLock { $0 }.count == 3)
        #expect(observed.committedAtFailure.withLock { $0 }.allSatisfy { $0.isEmpty })
        #expect(broker.records(in: "out").count == 3)
        #expect(try await committedEverything(broker))
    }

    @Test func rebalanceHooksRunAroundTheRecordsTheyGovern() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        let processor = UppercasingProcessor()
        let joined = ReadinessFlag()
        try await publish(broker, ["x"])
        let loop = try makeLoop(broker, processor, joined: joined)
        let secondJoined = Mutex(false)
        try await runUntil(loop) {
            guard broker.records(in: "out").count == 1 else { return false }
            // A second member joins: the loop must give up its partitions, then get three back.
            if secondJoined.withLock({ joined in defer { joined = true }; return !joined }) {
                _ = try? await broker.subscribe(group: "workers", topics: ["in"])
            }
            return processor.calls.withLock { $0.last == "assigned 3" }
        }
        #expect(processor.calls.withLock { $0 } == ["assigned 6", "x", "revoked 6", "assigned 3"])
        #expect(joined.isSet == false)  // cleared when the loop stopped
    }
}
