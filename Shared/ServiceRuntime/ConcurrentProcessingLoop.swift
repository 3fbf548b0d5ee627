import Foundation
import Logging
import MessageBus
import ServiceLifecycle
import HelpdeskModel
import Synchronization

/// How a `ConcurrentProcessingLoop` runs.
public struct ConcurrencySettings: Sendable {
    /// Records handled at once; polling waits while this many are in hand.
    public var maxInFlight: Int
    /// How long a revocation or shutdown waits for the records in hand before leaving them to the next owner.
    public var drainTimeout: Duration
    /// How often finished records' offsets are committed.
    public var commitInterval: Duration

    public init(maxInFlight: Int = 1_000, drainTimeout: Duration = .seconds(10), commitInterval: Duration = .milliseconds(200)) {
        self.maxInFlight = maxInFlight
        self.drainTimeout = drainTimeout
        self.commitInterval = commitInterval
    }
}

/// A consume → handle → publish → commit loop for records whose handling takes its own time
/// (the notifier's deliveries, retried for minutes): up to `maxInFlight` records are handled at
/// once, each publishing its outputs when it finishes, and a partition's offset is committed up
/// to its oldest record still in hand. A slow record holds back only its partition's commit,
/// never the records after it.
///
/// At-least-once: a record is committed only after its outputs were acknowledged. A crash, or
/// a revocation that outlasts `drainTimeout`, hands the unfinished records to the next owner.
public struct ConcurrentProcessingLoop: Service {
    let service: String
    let source: ProcessingLoop.Source
    let processor: any RecordProcessor
    let handling: RecordHandling
    let maxInFlight: Int
    let drainTimeout: Duration
    let commitInterval: Duration
    let outputTopics: [String]
    let joined: ReadinessFlag
    let membership: GroupMembership
    let logger: Logger

    public init(
        service: String, source: ProcessingLoop.Source, publisher: any RecordPublisher, processor: any RecordProcessor,
        settings: ProcessingSettings, concurrency: ConcurrencySettings, outputTopics: [String], joined: ReadinessFlag, stall: StallWatch, membership: GroupMembership, logger: Logger,
        now: @escaping @Sendable () -> Date
    ) {
        self.service = service
        self.source = source
        self.processor = processor
        handling = RecordHandling(service: service, publisher: publisher, settings: settings, logger: logger, now: now, stall: stall)
        maxInFlight = max(1, concurrency.maxInFlight)
        drainTimeout = concurrency.drainTimeout
        commitInterval = concurrency.commitInterval
        self.outputTopics = outputTopics
        self.joined = joined
        self.membership = membership
        self.logger = logger
    }

    public func run() async throws {
        try await membership.withSubscription { subscription in
            let tracker = InFlightRecords()
            // Handles made once: every record's task starts from a copy of these.
            var metrics = LoopMetrics(service: service)
            metrics.prepare(outputs: outputTopics + [Topics.deadletter])
            let committing = metrics
            let committer = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: commitInterval)
                    try? await commit(tracker.committable(), tracker: tracker, subscription: subscription, metrics: committing)
                }
            }
            defer { committer.cancel() }
            do {
                while !Task.isShuttingDownGracefully {
                    while tracker.count >= maxInFlight {
                        try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(5)) }
                    }
                    let batch = try await cancelWhenGracefulShutdown {
                        try await subscription.poll(max: min(handling.settings.maxBatch, maxInFlight - tracker.count))
                    }
                    if batch.isEmpty { break }
                    for event in batch {
                        switch event {
                        case .record(let record):
                            metrics.recordIn(record.topic)
                            start(record, tracker: tracker, metrics: metrics)
                        case .assigned(let partitions):
                            try await processor.partitionsAssigned(partitions)
                            metrics.assigned(partitions.count)
                            joined.set(true)
                        case .revoked(let partitions):
                            try await drain(Set(partitions), tracker: tracker, subscription: subscription, metrics: metrics)
                            await processor.partitionsRevoked(partitions)
                            metrics.revoked(partitions.count)
                        }
                    }
                }
            } catch is CancellationError {}
            // Shutting down: what is in hand may finish within the drain timeout, then is committed.
            try await drain(nil, tracker: tracker, subscription: subscription, metrics: metrics)
        }
    }

    /// Handles one record on a task of its own: outputs (or a dead letter), published, then done.
    private func start(_ record: ConsumerRecord, tracker: InFlightRecords, metrics: LoopMetrics) {
        let partition = record.topicPartition
        tracker.starting(partition, record.offset) {
            Task {
                var metrics = metrics
                do {
                    let outputs = try await handling.outputs(for: record, metrics: &metrics) { try await processor.process(record) }
                    _ = try await handling.publishUntilAcknowledged(outputs, metrics: &metrics)
                    tracker.finished(partition, record.offset)
                } catch {
                    // Cancelled (a revocation or shutdown outlasted the drain): left uncommitted.
                    tracker.abandoned(partition, record.offset)
                }
            }
        }
    }

    /// Waits up to the drain timeout for the records of `partitions` (nil: all) to finish,
    /// cancels the rest, commits what finished and forgets the partitions.
    private func drain(
        _ partitions: Set<TopicPartition>?, tracker: InFlightRecords, subscription: any GroupSubscription, metrics: LoopMetrics
    ) async throws {
        let deadline = ContinuousClock.now + drainTimeout
        while tracker.count(in: partitions) > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let cancelled = tracker.cancel(in: partitions)
        if cancelled > 0 {
            logger.notice("records left unfinished for the next owner", metadata: ["records": "\(cancelled)"])
        }
        while tracker.count(in: partitions) > 0 { try? await Task.sleep(for: .milliseconds(5)) }
        try await commit(tracker.committable(in: partitions), tracker: tracker, subscription: subscription, metrics: metrics)
        tracker.forget(partitions)
    }

    private func commit(
        _ offsets: [TopicPartition: Int64], tracker: InFlightRecords, subscription: any GroupSubscription, metrics: LoopMetrics
    ) async throws {
        guard !offsets.isEmpty else { return }
        try await handling.commit(offsets, to: subscription, metrics: metrics)
        tracker.committed(offsets)
    }
}

/// The records a concurrent loop has in hand, per partition, and how far each partition may be
/// committed: up to its oldest record still in hand, or past the last record seen.
final class InFlightRecords: Sendable {
    private struct Progress {
        var inHand: [Int64: Task<Void, Never>] = [:]
        /// One past the highest offset started.
        var next: Int64 = 0
        var committed: Int64?
    }
    private let state = Mutex([TopicPartition: Progress]())

    var count: Int { state.withLock { $0.values.reduce(0) { $0 + $1.inHand.count } } }

    func count(in partitions: Set<TopicPartition>?) -> Int {
        state.withLock { $0.filter { partitions?.contains($0.key) ?? true }.values.reduce(0) { $0 + $1.inHand.count } }
    }

    /// Records the record as in hand, with the task `make` starts for it.
    func starting(_ partition: TopicPartition, _ offset: Int64, make: () -> Task<Void, Never>) {
        state.withLock { state in
            state[partition, default: Progress()].next = max(state[partition]?.next ?? 0, offset + 1)
            state[partition]!.inHand[offset] = make()
        }
    }

    func finished(_ partition: TopicPartition, _ offset: Int64) {
        _ = state.withLock { $0[partition]?.inHand.removeValue(forKey: offset) }
    }

    /// A cancelled record: its partition is not committed past it again in this life.
    func abandoned(_ partition: TopicPartition, _ offset: Int64) {
        state.withLock { state in
            guard state[partition]?.inHand.removeValue(forKey: offset) != nil else { return }
            state[partition]!.next = min(state[partition]!.next, offset)
        }
    }

    /// Cancels the records in hand; returns how many.
    func cancel(in partitions: Set<TopicPartition>?) -> Int {
        let tasks = state.withLock { state in
            state.filter { partitions?.contains($0.key) ?? true }.flatMap { $0.value.inHand.values }
        }
        for task in tasks { task.cancel() }
        return tasks.count
    }

    /// The offsets to commit (changed since the last commit only).
    func committable(in partitions: Set<TopicPartition>? = nil) -> [TopicPartition: Int64] {
        state.withLock { state in
            var offsets = [TopicPartition: Int64]()
            for (partition, progress) in state where partitions?.contains(partition) ?? true {
                let offset = progress.inHand.keys.min() ?? progress.next
                if offset > (progress.committed ?? -1) { offsets[partition] = offset }
            }
            return offsets
        }
    }

    func committed(_ offsets: [TopicPartition: Int64]) {
        state.withLock { state in
            for (partition, offset) in offsets where state[partition] != nil {
                state[partition]!.committed = max(state[partition]!.committed ?? -1, offset)
            }
        }
    }

    func forget(_ partitions: Set<TopicPartition>?) {
        state.withLock { state in
            guard let partitions else { return state.removeAll() }
            for partition in partitions { state.removeValue(forKey: partition) }
        }
    }
}
