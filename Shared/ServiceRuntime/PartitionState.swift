import Foundation
import HelpdeskModel
import MessageBus

/// What a stateful service keeps for one partition it owns, as `StatefulProcessingLoop`
/// drives it. Only the loop touches it, one call at a time, so it needs no locking; but
/// `fire(now:)` of different partitions may run at the same time on different threads, so
/// whatever partitions share (metrics, the policy) must be thread-safe.
public protocol PartitionState: AnyObject {
    /// Rebuilds from one record of the partition's changelog, in changelog order (a nil
    /// value deletes the key).
    func restore(_ record: ConsumerRecord) throws
    /// Learns from one of its own events on the output topic that was published after the
    /// last changelog write (so it is not in the restored state), before any input is handled.
    /// Returns the keys whose state it changed (written to the changelog next) and the records
    /// that went out with the event to other topics (notifications), to be published again:
    /// the process may have died before they all reached the broker, and once the state knows
    /// the event nothing would produce them. Their ids are the originals', so a copy is a duplicate.
    func observe(published record: ConsumerRecord) -> PartitionEffects
    /// Handles one input record. Throw `UnprocessableRecord` for input that can never be handled.
    func handle(_ record: ConsumerRecord) throws -> PartitionEffects
    /// Fires what fell due at or before `now`.
    func fire(now: Date) -> PartitionEffects
    /// The earliest instant at which `fire` would produce something.
    var nextDeadline: Date? { get }
    /// The changelog value for a key as it is now (nil deletes it).
    func changelogValue(forKey key: String) -> [UInt8]?
    /// The partition moved to another instance (or the service stops): release what it holds.
    func dropped()
}

/// What handling an input or firing a timer did: records to publish, and the keys whose state
/// changed (their changelog records are written once the records are acknowledged).
public struct PartitionEffects: Sendable, Equatable {
    public var records: [OutgoingRecord]
    public var changedKeys: [String]
    /// When the handled input says it happened (an event's `at`), for gates that measure how late
    /// input arrives; nil when it says nothing.
    public var eventTime: Date?

    public init(records: [OutgoingRecord] = [], changedKeys: [String] = [], eventTime: Date? = nil) {
        self.records = records
        self.changedKeys = changedKeys
        self.eventTime = eventTime
    }

    public static let none = PartitionEffects()

    public static func += (lhs: inout PartitionEffects, rhs: PartitionEffects) {
        lhs.records += rhs.records
        lhs.changedKeys += rhs.changedKeys
    }
}

/// How far a partition's state reaches, carried in the headers of every changelog record:
/// the next input offset to handle per input topic, and the offset after the last record on
/// the output topic that the state reflects. The latest changelog record of a partition has
/// the partition's checkpoint.
public struct PartitionCheckpoint: Sendable, Equatable {
    public var inputs: [String: Int64]
    public var output: Int64

    public init(inputs: [String: Int64] = [:], output: Int64 = 0) {
        self.inputs = inputs
        self.output = output
    }

    static let inputPrefix = "helpdesk.checkpoint.in."
    static let outputHeader = "helpdesk.checkpoint.out"

    public var headers: [RecordHeader] {
        inputs.sorted { $0.key < $1.key }.map { RecordHeader(Self.inputPrefix + $0.key, String($0.value)) }
            + [RecordHeader(Self.outputHeader, String(output))]
    }

    public init?(headers: [RecordHeader]) {
        guard let output = headers.string(for: Self.outputHeader).flatMap(Int64.init) else { return nil }
        var inputs = [String: Int64]()
        for header in headers where header.name.hasPrefix(Self.inputPrefix) {
            guard let offset = header.stringValue.flatMap(Int64.init) else { return nil }
            inputs[String(header.name.dropFirst(Self.inputPrefix.count))] = offset
        }
        self.init(inputs: inputs, output: output)
    }

    /// Whether the state already reflects this input record.
    public func reflects(_ record: ConsumerRecord) -> Bool {
        record.offset < inputs[record.topic, default: 0]
    }
}

extension ConsumerRecord {
    /// A changelog record as the ticket it is keyed by and its value; a nil value deletes the
    /// ticket's state.
    public func changelogEntry() throws -> (ticket: TicketID, value: [UInt8]?) {
        guard let key = keyString else { throw UnprocessableRecord(code: "invalid_key", reason: "changelog record without a key") }
        return (TicketID(rawValue: key), value)
    }
}
