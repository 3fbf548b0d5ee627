import Foundation
import HelpdeskModel
import HistoryStore
import MessageBus
import Metrics
import ServiceRuntime

/// The projector: each poll's records decoded and kept in the store in one transaction. A
/// record that is not an event is dead-lettered; a duplicate (same `eventId`) changes nothing.
public struct HistoryProcessor: BatchProcessor {
    public static let service = "history"
    /// The history's `PROCESSING_MAX_BATCH` when it is not set: records kept in one transaction.
    public static let defaultBatch = 2_000
    let repository: any HistoryRepository
    private let stored = Counter(label: "helpdesk_history_events_stored_total")
    private let duplicates = Counter(label: "helpdesk_history_duplicates_total")

    public init(repository: any HistoryRepository) {
        self.repository = repository
    }

    public func process(_ records: [ConsumerRecord]) async throws -> [RefusedRecord] {
        var events = [HistoryEvent]()
        events.reserveCapacity(records.count)
        var refused = [RefusedRecord]()
        for record in records {
            guard let value = record.value else {
                refused.append(RefusedRecord(record, UnprocessableRecord(code: "empty_record", reason: "a record without a value")))
                continue
            }
            do {
                events.append(try HistoryEvent(topic: record.topic, partition: record.partition, offset: record.offset,
                                               bytes: value))
            } catch {
                refused.append(RefusedRecord(record, UnprocessableRecord(code: error.code, reason: error.reason)))
            }
        }
        let new = try await repository.apply(events)
        stored.increment(by: Int64(new))
        duplicates.increment(by: Int64(events.count - new))
        return refused
    }
}
