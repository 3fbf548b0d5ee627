import Foundation
import Logging
import MessageBus
import Metrics

/// What both processing loops do the same way: run a handler with bounded retries,
/// dead-letter what cannot be handled, and publish until the broker has acknowledged.
struct RecordHandling: Sendable {
    let service: String
    let publisher: any RecordPublisher
    let settings: ProcessingSettings
    let logger: Logger
    let now: @Sendable () -> Date

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
                try await Task.sleep(for: settings.backoff(afterAttempt: attempt))
            }
        }
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
    /// output would lose it, so there is no giving up here, only backing off.
    func publishUntilAcknowledged(_ records: [OutgoingRecord], metrics: inout LoopMetrics) async throws -> [DeliveryReceipt] {
        guard !records.isEmpty else { return [] }
        var attempt = 0
        while true {
            do {
                let receipts = try await publisher.publish(records)
                for record in records { metrics.recordOut(record.topic) }
                return receipts
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                attempt += 1
                logger.warning("publishing failed, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                try await Task.sleep(for: settings.backoff(afterAttempt: attempt))
            }
        }
    }

    /// Commits offsets. A commit refused because the group is rebalancing (or the partition
    /// has moved) loses nothing: the output is already acknowledged, so the records are handed
    /// again to whoever owns them next, who skips or deduplicates them.
    func commit(_ offsets: [TopicPartition: Int64], to subscription: any GroupSubscription) async throws {
        guard !offsets.isEmpty else { return }
        do {
            try await subscription.commit(offsets)
        } catch BusError.commitFailed(let reason) {
            Counter(label: "helpdesk_commit_failures_total", dimensions: [("service", service)]).increment()
            logger.warning("committing offsets failed; the records will be redelivered and skipped",
                           metadata: ["reason": "\(reason)", "partitions": "\(offsets.count)"])
        }
    }
}
