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
            let committer = PeriodicCommitter(interval: commitInterval) {
                try await commit(tracker.committable(), tracker: tracker, subscription: subscription, metrics: committing)
            }
            committer.start()
            var failure: (any Error)?
            // Polling runs on a task of its own, so that a record that cannot be finished stops
            // it at once, even while a poll waits for records that may never come.
            let polling = Task {
                try await consume(subscription, tracker: tracker, committer: committer, metrics: committing)
            }
            tracker.cancelOnFailure(polling)
            do {
                try await withTaskCancellationHandler { try await polling.value } onCancel: { polling.cancel() }
            } catch is CancellationError {
            } catch {
                failure = error
            }
            // Stopping (shutdown or a failure): what is in hand may finish within the drain
            // timeout; everything before the oldest unfinished record is committed.
            await committer.stop()
            let cause = failure ?? tracker.failure
            do {
                try await drain(nil, tracker: tracker, subscription: subscription, metrics: metrics)
            } catch where cause != nil {
                // The failure that stopped the loop is the one to report.
            }
            if let cause { throw cause }
        }
    }

    /// Polls and starts each record until shutdown, the end of the stream, or a failure.
    private func consume(
        _ subscription: any GroupSubscription, tracker: InFlightRecords, committer: PeriodicCommitter, metrics: LoopMetrics
    ) async throws {
        var metrics = metrics
        while !Task.isShuttingDownGracefully {
            while tracker.count >= maxInFlight {
                try tracker.checkFailure()
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(5)) }
            }
            try tracker.checkFailure()
            let batch = try await cancelWhenGracefulShutdown {
                try await subscription.poll(max: min(handling.settings.maxBatch, maxInFlight - tracker.count))
            }
            if batch.isEmpty { return }
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
                    // No periodic commit may race the drain's, nor touch a partition given away.
                    await committer.stop()
                    try await drain(Set(partitions), tracker: tracker, subscription: subscription, metrics: metrics)
                    committer.start()
                    await processor.partitionsRevoked(partitions)
                    metrics.revoked(partitions.count)
                }
            }
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
                } catch is CancellationError {
                    // A revocation or shutdown outlasted the drain: left uncommitted for the next owner.
                    tracker.abandoned(partition, record.offset, failure: nil)
                } catch {
                    // Not even its bounded dead letter could be written: the loop stops rather
                    // than commit past it.
                    logger.error("a record could not be finished; stopping", metadata: [
                        "topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)", "error": "\(error)"])
                    tracker.abandoned(partition, record.offset, failure: error)
                }
            }
        }
    }

    /// Waits up to the drain timeout for the records of `partitions` (nil: all) to finish,
    /// cancels the rest, commits what finished and forgets the partitions. The waits are not
    /// cut short by the caller's cancellation (a cancelled caller skips only the first one).
    private func drain(
        _ partitions: Set<TopicPartition>?, tracker: InFlightRecords, subscription: any GroupSubscription, metrics: LoopMetrics
    ) async throws {
        let deadline = ContinuousClock.now + drainTimeout
        while tracker.count(in: partitions) > 0 && ContinuousClock.now < deadline && !Task.isCancelled {
            await Self.pause()
        }
        let cancelled = tracker.cancel(in: partitions)
        if cancelled > 0 {
            logger.notice("records left unfinished for the next owner", metadata: ["records": "\(cancelled)"])
        }
        while tracker.count(in: partitions) > 0 { await Self.pause() }
        try await commit(tracker.committable(in: partitions), tracker: tracker, subscription: subscription, metrics: metrics)
        tracker.forget(partitions)
    }

    /// A short wait that a cancelled task also waits out (so a drain never spins).
    private static func pause() async {
        await Task { try? await Task.sleep(for: .milliseconds(5)) }.value
    }

    private func commit(
        _ offsets: [TopicPartition: Int64], tracker: InFlightRecords, subscription: any GroupSubscription, metrics: LoopMetrics
    ) async throws {
        guard !offsets.isEmpty else { return }
        try await handling.commit(offsets, to: subscription, metrics: metrics)
        tracker.committed(offsets)
    }
}

/// Commits every `interval` on a task of its own; `stop` waits for a commit under way, so that
/// the loop's own commits (at a revocation or shutdown) never interleave with it.
final class PeriodicCommitter: Sendable {
    private let interval: Duration
    private let commit: @Sendable () async throws -> Void
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(interval: Duration, commit: @escaping @Sendable () async throws -> Void) {
        self.interval = interval
        self.commit = commit
    }

    func start() {
        let interval = interval, commit = commit
        task.withLock { task in
            guard task == nil else { return }
            task = Task {
                while !Task.isCancelled {
                    guard (try? await Task.sleep(for: interval)) != nil else { return }
                    // A commit that fails is logged by the commit itself; the next commit (a
                    // tick later, or the drain's) carries the partitions further.
                    try? await commit()
                }
            }
        }
    }

    func stop() async {
        guard let running = task.withLock({ task -> Task<Void, Never>? in defer { task = nil }; return task }) else { return }
        running.cancel()
        await running.value
    }
}

/// The records a concurrent loop has in hand, per partition, and how far each partition may be
/// committed: up to its oldest record still in hand, never past a record abandoned in this
/// life, else past the last record seen.
final class InFlightRecords: Sendable {
    private struct Progress {
        var inHand: [Int64: Task<Void, Never>] = [:]
        /// One past the highest offset started.
        var next: Int64 = 0
        /// The lowest record abandoned unfinished: the partition is never committed past it
        /// until it is forgotten (revoked), whatever finishes after it.
        var floor: Int64?
        var committed: Int64?
    }
    private struct State {
        var partitions: [TopicPartition: Progress] = [:]
        var failure: (any Error)?
        var onFailure: Task<Void, any Error>?
    }
    private let state = Mutex(State())

    var count: Int { state.withLock { $0.partitions.values.reduce(0) { $0 + $1.inHand.count } } }

    func count(in partitions: Set<TopicPartition>?) -> Int {
        state.withLock { $0.partitions.filter { partitions?.contains($0.key) ?? true }.values.reduce(0) { $0 + $1.inHand.count } }
    }

    /// The first error a record could not be finished with (other than cancellation).
    var failure: (any Error)? { state.withLock { $0.failure } }

    /// Cancels `task` at the first failure (at once if there was one already).
    func cancelOnFailure(_ task: Task<Void, any Error>) {
        let failed = state.withLock { state -> Bool in
            state.onFailure = task
            return state.failure != nil
        }
        if failed { task.cancel() }
    }

    func checkFailure() throws {
        if let failure { throw failure }
    }

    /// Records the record as in hand, with the task `make` starts for it.
    func starting(_ partition: TopicPartition, _ offset: Int64, make: () -> Task<Void, Never>) {
        state.withLock { state in
            state.partitions[partition, default: Progress()].next = max(state.partitions[partition]?.next ?? 0, offset + 1)
            state.partitions[partition]!.inHand[offset] = make()
        }
    }

    func finished(_ partition: TopicPartition, _ offset: Int64) {
        _ = state.withLock { $0.partitions[partition]?.inHand.removeValue(forKey: offset) }
    }

    /// A record left unfinished (cancelled, or failed with `failure`): its partition is not
    /// committed past it again in this life.
    func abandoned(_ partition: TopicPartition, _ offset: Int64, failure: (any Error)?) {
        let stop = state.withLock { state -> Task<Void, any Error>? in
            var stop: Task<Void, any Error>?
            if let failure, state.failure == nil {
                state.failure = failure
                stop = state.onFailure
            }
            if state.partitions[partition]?.inHand.removeValue(forKey: offset) != nil {
                state.partitions[partition]!.floor = min(state.partitions[partition]!.floor ?? offset, offset)
            }
            return stop
        }
        stop?.cancel()
    }

    /// Cancels the records in hand; returns how many.
    func cancel(in partitions: Set<TopicPartition>?) -> Int {
        let tasks = state.withLock { state in
            state.partitions.filter { partitions?.contains($0.key) ?? true }.flatMap { $0.value.inHand.values }
        }
        for task in tasks { task.cancel() }
        return tasks.count
    }

    /// The offsets to commit (changed since the last commit only).
    func committable(in partitions: Set<TopicPartition>? = nil) -> [TopicPartition: Int64] {
        state.withLock { state in
            var offsets = [TopicPartition: Int64]()
            for (partition, progress) in state.partitions where partitions?.contains(partition) ?? true {
                let offset = min(progress.inHand.keys.min() ?? progress.next, progress.floor ?? .max)
                if offset > (progress.committed ?? -1) { offsets[partition] = offset }
            }
            return offsets
        }
    }

    func committed(_ offsets: [TopicPartition: Int64]) {
        state.withLock { state in
            for (partition, offset) in offsets where state.partitions[partition] != nil {
                state.partitions[partition]!.committed = max(state.partitions[partition]!.committed ?? -1, offset)
            }
        }
    }

    func forget(_ partitions: Set<TopicPartition>?) {
        state.withLock { state in
            guard let partitions else { return state.partitions.removeAll() }
            for partition in partitions { state.partitions.removeValue(forKey: partition) }
        }
    }
}
