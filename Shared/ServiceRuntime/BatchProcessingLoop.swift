import Foundation
import Logging
import MessageBus
import ServiceLifecycle

/// A service's logic that keeps a whole batch at once (a projector writing to a database):
/// one transaction per batch instead of one per record.
public protocol BatchProcessor: Sendable {
    /// Makes durable what can be kept of `records` (one poll's records of the partitions owned
    /// now, in order) and returns the ones that never can be, to dead-letter. Throwing means
    /// nothing of the batch was kept: the loop tries the whole batch again.
    func process(_ records: [ConsumerRecord]) async throws -> [RefusedRecord]
}

public struct RefusedRecord: Sendable {
    public let record: ConsumerRecord
    public let refusal: UnprocessableRecord

    public init(_ record: ConsumerRecord, _ refusal: UnprocessableRecord) {
        self.record = record
        self.refusal = refusal
    }
}

/// The consume → keep → dead-letter → commit loop of a `BatchProcessor`.
///
/// Offsets are committed only after the processor has made the batch durable and the dead
/// letters are acknowledged. A processor that keeps failing (its database is down) is retried
/// with back-off for as long as it takes, never dead-lettered: the records are valid, and the
/// stall shows on `/readyz`. Graceful shutdown ends the retries with nothing committed.
public struct BatchProcessingLoop: Service {
    let service: String
    let membership: GroupMembership
    let processor: any BatchProcessor
    let handling: RecordHandling
    let joined: ReadinessFlag
    let logger: Logger

    public init(
        service: String, membership: GroupMembership, publisher: any RecordPublisher, processor: any BatchProcessor,
        settings: ProcessingSettings, joined: ReadinessFlag, stall: StallWatch, logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.service = service
        self.membership = membership
        self.processor = processor
        handling = RecordHandling(service: service, publisher: publisher, settings: settings, logger: logger, now: now, stall: stall)
        self.joined = joined
        self.logger = logger
    }

    public func run() async throws {
        try await membership.withSubscription { subscription in
            var metrics = LoopMetrics(service: service)
            while !Task.isShuttingDownGracefully {
                let batch = try await cancelWhenGracefulShutdown { try await subscription.poll(max: handling.settings.maxBatch) }
                if batch.isEmpty { break }
                var records = [ConsumerRecord]()
                for event in batch {
                    switch event {
                    case .record(let record):
                        metrics.recordIn(record.topic)
                        records.append(record)
                    case .assigned(let partitions):
                        try await keep(&records, subscription: subscription, metrics: &metrics)
                        metrics.assigned(partitions.count)
                        joined.set(true)
                    case .revoked(let partitions):
                        try await keep(&records, subscription: subscription, metrics: &metrics, revoking: Set(partitions))
                        metrics.revoked(partitions.count)
                    }
                }
                try await keep(&records, subscription: subscription, metrics: &metrics)
            }
        }
    }

    /// Keeps the records in hand, then commits them. While partitions are being revoked the
    /// group waits on this member, so when every record in hand is of a revoked partition the
    /// attempts stop at `maxAttempts`: the records are left uncommitted, for the partitions'
    /// next owner to keep (keeping is idempotent). Records of partitions still owned are never
    /// dropped: the consumer has read past them.
    private func keep(
        _ records: inout [ConsumerRecord], subscription: any GroupSubscription, metrics: inout LoopMetrics,
        revoking: Set<TopicPartition> = []
    ) async throws {
        guard !records.isEmpty else { return }
        var attempt = 0
        var refused = [RefusedRecord]()
        while true {
            attempt += 1
            do {
                refused = try await processor.process(records)
                handling.stall.progressed()
                break
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                handling.stall.failed()
                if attempt >= handling.settings.maxAttempts, !revoking.isEmpty,
                   records.allSatisfy({ revoking.contains($0.topicPartition) }) {
                    logger.error("keeping a batch failed while its partitions were revoked; leaving it to their next owner",
                                 metadata: ["records": "\(records.count)", "error": "\(error)"])
                    records.removeAll(keepingCapacity: true)
                    return
                }
                metrics.retried()
                logger.warning("keeping a batch failed, retrying",
                               metadata: ["records": "\(records.count)", "attempt": "\(attempt)", "error": "\(error)"])
                try await handling.pause(handling.settings.backoff(afterAttempt: attempt))
            }
        }
        let deadLetters = refused.map {
            handling.deadLetter($0.record, code: $0.refusal.code, reason: $0.refusal.reason, metrics: &metrics)
        }
        _ = try await handling.publishUntilAcknowledged(deadLetters, metrics: &metrics)
        var offsets = [TopicPartition: Int64]()
        for record in records { offsets[record.topicPartition] = max(offsets[record.topicPartition] ?? 0, record.offset + 1) }
        try await handling.commit(offsets, to: subscription, metrics: metrics)
        records.removeAll(keepingCapacity: true)
    }
}
