import Foundation
import HelpdeskModel
import MessageBus

/// The `deadletter` topic's record: the original key, bytes and headers, plus where the
/// record came from and why it was refused, so an operator can inspect and replay it.
public enum DeadLetter {
    public static let topic = Topics.deadletter

    public enum Header {
        public static let topic = "dlq.topic"
        public static let partition = "dlq.partition"
        public static let offset = "dlq.offset"
        public static let errorCode = "dlq.error.code"
        public static let error = "dlq.error"
        public static let service = "dlq.service"
        public static let failedAt = "dlq.failed.at"
    }

    public static func record(for original: ConsumerRecord, code: String, reason: String, service: String, at now: Date)
        -> OutgoingRecord
    {
        OutgoingRecord(
            topic: topic, key: original.key, value: original.value,
            headers: original.headers + [
                RecordHeader(Header.topic, original.topic),
                RecordHeader(Header.partition, String(original.partition)),
                RecordHeader(Header.offset, String(original.offset)),
                RecordHeader(Header.errorCode, code),
                RecordHeader(Header.error, String(reason.prefix(4096))),
                RecordHeader(Header.service, service),
                RecordHeader(Header.failedAt, ISO8601.format(now)),
            ])
    }
}
