import Foundation
import Logging
import MessageBus
import Metrics
import ServiceLifecycle

/// The consume → handle → publish → commit loop every service runs.
///
/// At-least-once in, exactly-once effects out: a batch's offsets are committed only after
/// every record it produced (including dead letters) was acknowledged by the broker, and
/// outputs carry deterministic ids so a redelivered batch yields identical records that
/// consumers drop. A malformed record is dead-lettered and the partition moves on.
public struct ProcessingLoop: Service {
    public struct Source: Sendable {
        public var group: String
        public var topics: [String]
        public var instanceID: String?
        public init(group: String, topics: [String], instanceID: String? = nil) {
            self.group = group
            self.topics = topics
            self.instanceID = instanceID
        }
    }

    let service: String
    let bus: any MessageBus
    let source: Source
    let publisher: any RecordPublisher
    let processor: any RecordProcessor
    let settings: ProcessingSettings
    let joined: ReadinessFlag
    let stall: StallWatch
    let logger: Logger
    let now: @Sendable () -> Date
    /// The group membership a service hosts; nil: the loop joins and leaves by itself.
    let membership: GroupMembership?

    public init(
        service: String, bus: any MessageBus, source: Source, publisher: any RecordPublisher,
        processor: any RecordProcessor, settings: ProcessingSettings, joined: ReadinessFlag = ReadinessFlag(),
        stall: StallWatch = StallWatch(), membership: GroupMembership? = nil, logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.membership = membership
        self.stall = stall
        self.service = service
        self.bus = bus
        self.source = source
        self.publisher = publisher
        self.processor = processor
        self.settings = settings
        self.joined = joined
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        let membership = self.membership ?? GroupMembership(
            bus: bus, group: source.group, topics: source.topics, instanceID: source.instanceID, joined: joined, logger: logger)
        try await membership.withSubscription { subscription in
            var metrics = LoopMetrics(service: service)
            // Graceful shutdown interrupts only the wait for records: a batch in hand is
            // finished, published and committed before the loop ends.
            while !Task.isShuttingDownGracefully {
                let batch = try await cancelWhenGracefulShutdown { try await subscription.poll(max: settings.maxBatch) }
                if batch.isEmpty { break }
                try await handle(batch, subscription: subscription, metrics: &metrics)
            }
        }
    }

    private var handling: RecordHandling {
        RecordHandling(service: service, publisher: publisher, settings: settings, logger: logger, now: now, stall: stall)
    }

    func handle(_ batch: [ConsumerEvent], subscription: any GroupSubscription, metrics: inout LoopMetrics) async throws {
        var outputs = [OutgoingRecord]()
        var offsets = [TopicPartition: Int64]()
        for event in batch {
            switch event {
            case .record(let record):
                metrics.recordIn(record.topic)
                outputs += try await handling.outputs(for: record, metrics: &metrics) { try await processor.process(record) }
                offsets[record.topicPartition] = record.offset + 1
            case .assigned(let partitions):
                try await flush(&outputs, &offsets, subscription: subscription, metrics: &metrics)
                try await processor.partitionsAssigned(partitions)
                metrics.assigned(partitions.count)
                joined.set(true)
            case .revoked(let partitions):
                try await flush(&outputs, &offsets, subscription: subscription, metrics: &metrics)
                await processor.partitionsRevoked(partitions)
                metrics.revoked(partitions.count)
            }
        }
        try await flush(&outputs, &offsets, subscription: subscription, metrics: &metrics)
    }

    /// Publishes the outputs, then commits the offsets.
    private func flush(
        _ outputs: inout [OutgoingRecord], _ offsets: inout [TopicPartition: Int64], subscription: any GroupSubscription,
        metrics: inout LoopMetrics
    ) async throws {
        let started = ContinuousClock.now
        let outputCount = outputs.count
        _ = try await handling.publishUntilAcknowledged(outputs, metrics: &metrics)
        outputs.removeAll(keepingCapacity: true)
        let published = ContinuousClock.now
        try await handling.commit(offsets, to: subscription, metrics: metrics)
        offsets.removeAll(keepingCapacity: true)
        logger.trace("flushed", metadata: ["outputs": "\(outputCount)", "publish": "\(published - started)",
                                           "commit": "\(ContinuousClock.now - published)"])
    }
}

/// The loop's metrics, with per-label handles cached (creating one goes through the factory).
struct LoopMetrics {
    let service: String
    private var inbound: [String: Counter] = [:]
    private var outbound: [String: Counter] = [:]
    private var deadLetters: [String: Counter] = [:]
    private let retries: Counter
    private let assignedPartitions: Gauge
    private let assignments: Counter
    private let revocations: Counter
    private let commitFailures: Counter
    private var assignedCount = 0

    init(service: String) {
        self.service = service
        retries = Counter(label: "helpdesk_processing_retries_total", dimensions: [("service", service)])
        assignedPartitions = Gauge(label: "helpdesk_assigned_partitions", dimensions: [("service", service)])
        assignments = Counter(label: "helpdesk_partition_assignments_total", dimensions: [("service", service)])
        revocations = Counter(label: "helpdesk_partition_revocations_total", dimensions: [("service", service)])
        commitFailures = Counter(label: "helpdesk_commit_failures_total", dimensions: [("service", service)])
    }

    mutating func recordIn(_ topic: String) {
        counter(&inbound, "helpdesk_records_in_total", [("service", service), ("topic", topic)], key: topic).increment()
    }

    mutating func recordOut(_ topic: String) {
        counter(&outbound, "helpdesk_records_out_total", [("service", service), ("topic", topic)], key: topic).increment()
    }

    mutating func deadLettered(_ code: String) {
        counter(&deadLetters, "helpdesk_deadletters_total", [("service", service), ("reason", code)], key: code).increment()
    }

    /// Makes the output counters' handles ahead, without counting.
    mutating func prepare(outputs topics: [String]) {
        for topic in topics {
            _ = counter(&outbound, "helpdesk_records_out_total", [("service", service), ("topic", topic)], key: topic)
        }
    }

    func retried() { retries.increment() }

    func commitFailed() { commitFailures.increment() }

    mutating func assigned(_ count: Int) {
        assignments.increment(by: Int64(count))
        assignedCount += count
        assignedPartitions.record(assignedCount)
    }

    mutating func revoked(_ count: Int) {
        revocations.increment(by: Int64(count))
        assignedCount = max(0, assignedCount - count)
        assignedPartitions.record(assignedCount)
    }

    private func counter(_ cache: inout [String: Counter], _ label: String, _ dimensions: [(String, String)], key: String) -> Counter {
        if let counter = cache[key] { return counter }
        let counter = Counter(label: label, dimensions: dimensions)
        cache[key] = counter
        return counter
    }
}
