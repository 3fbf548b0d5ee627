import Foundation
import Logging
import MessageBus
import ServiceRuntime

/// Instances of a stateful service on the in-memory broker, on one virtual clock.
open class StatefulServiceHarness: @unchecked Sendable {
    public let broker: InMemoryBroker
    public let clock: VirtualWallClock
    let service: String
    let source: StatefulProcessingLoop.Source
    let makeState: @Sendable (Int32) -> any PartitionState

    public init(
        service: String, source: StatefulProcessingLoop.Source, otherTopics: [String], start: Date, partitions: Int = 6,
        makeState: @escaping @Sendable (Int32) -> any PartitionState
    ) {
        let clock = VirtualWallClock(start)
        // Records are stamped on the virtual clock too, as a broker's would be on the wall clock.
        broker = InMemoryBroker(.init(defaultPartitions: partitions, now: clock.now))
        for topic in source.inputs + [source.changelog, source.output] + otherTopics + [source.upstream?.topic].compactMap({ $0 }) {
            broker.createTopic(topic, partitions: partitions)
        }
        self.clock = clock
        self.service = service
        self.source = source
        self.makeState = makeState
    }

    /// Starts an instance; the task ends when it stops (cancelled, or its publisher "crashed").
    public func startInstance(publisher: (any RecordPublisher)? = nil, name: String = "a") throws -> Task<Void, Never> {
        var logger = Logger(label: "\(service)-\(name)")
        logger.logLevel = .warning
        let loop = StatefulProcessingLoop(
            service: service, bus: broker, queries: try broker.makeQueries(), source: source,
            publisher: try publisher ?? broker.makePublisher(),
            settings: ProcessingSettings(maxBatch: 50, maxAttempts: 3, retryBackoff: .milliseconds(1)),
            clock: clock, logger: logger, makeState: makeState)
        return Task { try? await loop.run() }
    }

    /// Each key's latest value in the changelog (deleted keys left out).
    public func latestChangelogValues() -> [[UInt8]] {
        var latest = [String: ConsumerRecord]()
        for record in broker.records(in: source.changelog) { latest[record.keyString ?? ""] = record }
        return latest.values.compactMap(\.value)
    }

    public func publish(_ records: [OutgoingRecord]) async throws {
        _ = try await broker.makePublisher().publish(records)
    }

    /// The service's events (of one type, when given).
    public func events(_ type: String? = nil) -> [ConsumerRecord] {
        broker.records(in: source.output).filter { type == nil || $0.eventType == type }
    }

    public func eventually(_ what: String, _ condition: @Sendable () -> Bool) async throws {
        try await TestSupport.eventually(what, condition)
    }
}
