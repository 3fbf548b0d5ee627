import Foundation
import Logging
import MessageBus
import Metrics
import ServiceLifecycle

/// What both processing loops do the same way: run a handler with bounded retries,
/// dead-letter what cannot be handled, and publish until the broker has acknowledged.
struct RecordHandling: Sendable {
    let service: String
    let publisher: any RecordPublisher
    let settings: ProcessingSettings
    let logger: Logger
    let now: @Sendable () -> Date
    var stall = StallWatch()

    /// The handler's outputs for a record; a dead letter instead when the record is
    /// unprocessable or its retries are exhausted.
    func outputs(
        for record: ConsumerRecord, metrics: inout LoopMetrics, _ handler: () async throws -> [OutgoingRecord]
    ) async throws -> [OutgoingRecord] {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await handler()
            } catch let unprocessable as UnprocessableRecord {
                return [deadLetter(record, code: unprocessable.code, reason: unprocessable.reason, metrics: &metrics)]
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attempt < settings.maxAttempts else {
                    return [deadLetter(record, code: "retries_exhausted",
                                       reason: "gave up after \(attempt) attempts: \(error)", metrics: &metrics)]
                }
                metrics.retried()
                logger.warning(
                    "processing failed, retrying",
                    metadata: ["topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                               "attempt": "\(attempt)", "error": "\(error)"])
                try await pause(settings.backoff(afterAttempt: attempt))
            }
        }
    }

    /// A retry's back-off. Graceful shutdown ends it: the batch in hand is then left
    /// uncommitted, to be handled again by whoever owns its partitions next.
    func pause(_ duration: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
        if Task.isShuttingDownGracefully { throw CancellationError() }
    }

    func deadLetter(_ record: ConsumerRecord, code: String, reason: String, metrics: inout LoopMetrics) -> OutgoingRecord {
        metrics.deadLettered(code)
        logger.notice(
            "dead-lettering a record",
            metadata: ["topic": "\(record.topic)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                       "reason": "\(reason)"])
        return DeadLetter.record(for: record, code: code, reason: reason, service: service, at: now())
    }

    /// Publishes, retrying until the broker takes every record: committing past unpublished
    /// output would lose it. A record the broker refuses for good (too large, invalid) is
    /// replaced by its bounded dead letter instead of being retried; a broker that cannot be
    /// reached is retried with back-off until it answers or the service shuts down, and the
    /// stall shows on `/readyz`.
    func publishUntilAcknowledged(_ records: [OutgoingRecord], metrics: inout LoopMetrics) async throws -> [DeliveryReceipt] {
        guard !records.isEmpty else { return [] }
        var records = records
        var attempt = 0
        while true {
            do {
                let receipts = try await publisher.publish(records)
                stall.progressed()
                for record in records { metrics.recordOut(record.topic) }
                return receipts
            } catch is CancellationError {
                throw CancellationError()
            } catch BusError.recordRefused(let topic, let index, let reason) where records.indices.contains(index) {
                // Only a bounded dead letter is never replaced: if even that is refused, the
                // loop stops (and the service restarts) rather than lose the record.
                guard !DeadLetter.isBounded(records[index]) else {
                    stall.failed()
                    throw BusError.recordRefused(topic: topic, index: index, reason: reason)
                }
                metrics.deadLettered("refused_by_broker")
                logger.error("the broker refused a record for good; writing its bounded dead letter instead",
                             metadata: ["topic": "\(topic)", "reason": "\(reason)"])
                records[index] = DeadLetter.refused(records[index], reason: reason, service: service, at: now())
            } catch {
                attempt += 1
                stall.failed()
                logger.warning("publishing failed, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                try await pause(settings.backoff(afterAttempt: attempt))
            }
        }
    }

    /// Commits offsets. A commit refused because the group is rebalancing (or the partition
    /// has moved) loses nothing: the output is already acknowledged, so the records are handed
    /// again to whoever owns them next, who skips or deduplicates them.
    func commit(_ offsets: [TopicPartition: Int64], to subscription: any GroupSubscription, metrics: LoopMetrics) async throws {
        guard !offsets.isEmpty else { return }
        do {
            try await subscription.commit(offsets)
        } catch BusError.commitFailed(let reason) {
            metrics.commitFailed()
            logger.warning("committing offsets failed; the records will be redelivered and skipped",
                           metadata: ["reason": "\(reason)", "partitions": "\(offsets.count)"])
        }
    }
}
