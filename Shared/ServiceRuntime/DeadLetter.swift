import Foundation
import HelpdeskModel
import MessageBus

/// The `deadletter` topic's record: the original key, bytes and headers, plus where the
/// record came from and why it was refused, so an operator can inspect and replay it.
///
/// A dead letter is never larger than `maxBytes`. One that would be (a 3 MB record, or a large
/// header on a small invalid value) is written in a bounded form: the value's first
/// `keptValueBytes` with the whole value's size and SHA-256, the headers that fit, the names
/// and sizes of those that did not, and the code `too_large`. A producer cannot forge the
/// metadata: an inbound header named `dlq.*` is kept as `original.dlq.*`.
public enum DeadLetter {
    public static let topic = Topics.deadletter
    /// Under the broker's default `message.max.bytes` (1 MiB) with room for the batch overhead.
    public static let maxBytes = 1_000_000
    public static let keptValueBytes = 16 * 1024
    static let keptHeaderBytes = 16 * 1024
    static let keptKeyBytes = 1024

    public enum Header {
        public static let topic = "dlq.topic"
        public static let partition = "dlq.partition"
        public static let offset = "dlq.offset"
        public static let errorCode = "dlq.error.code"
        public static let error = "dlq.error"
        public static let service = "dlq.service"
        public static let failedAt = "dlq.failed.at"
        /// Present on a bounded dead letter: the original value's size in bytes and SHA-256 (hex).
        public static let originalBytes = "dlq.original.bytes"
        public static let originalSHA256 = "dlq.original.sha256"
        /// Present on a bounded dead letter: the original headers left out, as `name (N bytes)`.
        public static let droppedHeaders = "dlq.dropped.headers"
        /// The prefix an inbound header starting with `dlq.` is given, so it cannot pass for ours.
        public static let renamedPrefix = "original."
    }

    /// The dead letter of a consumed record.
    public static func record(for original: ConsumerRecord, code: String, reason: String, service: String, at now: Date,
                              maxBytes: Int = maxBytes) -> OutgoingRecord
    {
        make(key: original.key, value: original.value, headers: original.headers, metadata: [
            RecordHeader(Header.topic, original.topic),
            RecordHeader(Header.partition, String(original.partition)),
            RecordHeader(Header.offset, String(original.offset)),
        ], code: code, reason: reason, service: service, at: now, maxBytes: maxBytes)
    }

    /// The dead letter of an output the broker refused for good (too large, invalid): always
    /// bounded, so that it is small enough for any broker. A refused dead letter is bounded again.
    public static func refused(_ output: OutgoingRecord, reason: String, service: String, at now: Date) -> OutgoingRecord {
        if output.topic == topic {
            let ours = output.headers.filter { $0.name.hasPrefix("dlq.") }
            let source = [Header.topic, Header.partition, Header.offset]
            return make(
                key: output.key, value: output.value, headers: output.headers.filter { !$0.name.hasPrefix("dlq.") },
                metadata: ours.filter { source.contains($0.name) },
                code: ours.string(for: Header.errorCode) ?? "too_large",
                reason: "\(ours.string(for: Header.error) ?? "dead-lettered"); the broker refused the dead letter: \(reason)",
                service: service, at: now, maxBytes: 0)
        }
        return make(key: output.key, value: output.value, headers: output.headers, metadata: [
            RecordHeader(Header.topic, output.topic),
        ], code: "refused_by_broker", reason: "the broker refused this output: \(reason)", service: service, at: now,
           maxBytes: 0)
    }

    /// Whether the record is a dead letter already written in the bounded form.
    public static func isBounded(_ record: OutgoingRecord) -> Bool {
        record.topic == topic && record.headers.value(for: Header.originalBytes) != nil
    }

    private static func make(
        key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader], metadata: [RecordHeader], code: String, reason: String,
        service: String, at now: Date, maxBytes: Int
    ) -> OutgoingRecord {
        let originals = headers.map { header in
            header.name.hasPrefix("dlq.") ? RecordHeader(Header.renamedPrefix + header.name, header.value) : header
        }
        func ours(code: String, reason: String) -> [RecordHeader] {
            metadata + [
                RecordHeader(Header.errorCode, code),
                RecordHeader(Header.error, String(reason.prefix(4096))),
                RecordHeader(Header.service, service),
                RecordHeader(Header.failedAt, ISO8601.format(now)),
            ]
        }
        let whole = OutgoingRecord(topic: topic, key: key, value: value, headers: originals + ours(code: code, reason: reason))
        if whole.byteCount <= maxBytes { return whole }

        // The bounded form.
        var kept = [RecordHeader]()
        var dropped = [String]()
        var keptBytes = 0
        for header in originals {
            let bytes = header.name.utf8.count + header.value.count
            if bytes <= 1024, keptBytes + bytes <= keptHeaderBytes {
                kept.append(header)
                keptBytes += bytes
            } else {
                dropped.append("\(header.name.prefix(64)) (\(bytes) bytes)")
            }
        }
        let valueBytes = value ?? []
        let note = (maxBytes == 0 ? "written bounded" : "the dead letter would be \(whole.byteCount) bytes, more than \(maxBytes)")
            + ": its value is cut to "
            + "the first \(min(valueBytes.count, keptValueBytes)) of \(valueBytes.count) bytes"
            + (dropped.isEmpty ? "" : " and \(dropped.count) headers are left out")
        // Cut for its size, the letter says too_large; written after a refusal, it keeps the code.
        var bounded = ours(code: maxBytes == 0 ? code : "too_large", reason: "\(reason); \(note)") + [
            RecordHeader(Header.originalBytes, String(valueBytes.count)),
            RecordHeader(Header.originalSHA256, SHA256.digest(valueBytes).map { String(format: "%02x", $0) }.joined()),
        ]
        if !dropped.isEmpty { bounded.append(RecordHeader(Header.droppedHeaders, String(dropped.joined(separator: ", ").prefix(4096)))) }
        return OutgoingRecord(
            topic: topic, key: key.map { Array($0.prefix(keptKeyBytes)) }, value: value.map { Array($0.prefix(keptValueBytes)) },
            headers: kept + bounded)
    }

}
