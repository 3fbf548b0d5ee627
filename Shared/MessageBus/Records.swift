import Foundation

public struct RecordHeader: Sendable, Equatable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(_ name: String, _ value: [UInt8]) {
        self.name = name
        self.value = value
    }

    public init(_ name: String, _ value: String) {
        self.init(name, Array(value.utf8))
    }

    public var stringValue: String? { String(validating: value, as: UTF8.self) }
}

extension Array where Element == RecordHeader {
    /// The last header of that name, as Kafka clients resolve repeated headers.
    public func value(for name: String) -> [UInt8]? { last(where: { $0.name == name })?.value }
    public func string(for name: String) -> String? { value(for: name).flatMap { String(validating: $0, as: UTF8.self) } }
}

public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// A record to publish. Without an explicit partition the key chooses one (murmur2, as
/// Java clients do); a nil key lets the backend spread records over partitions.
public struct OutgoingRecord: Sendable, Equatable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// Stateful services write their events and changelog to the partition of the input they
    /// handled, so co-partitioning holds whatever partitioner wrote the input.
    public var partition: Int32?

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], partition: Int32? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }

    public init(topic: String, key: String, value: [UInt8]?, headers: [RecordHeader] = [], partition: Int32? = nil) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers, partition: partition)
    }

    /// The record's bytes as a broker counts them against `message.max.bytes`, near enough:
    /// key, value and headers.
    public var byteCount: Int {
        (key?.count ?? 0) + (value?.count ?? 0) + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.count }
    }
}

/// Where the broker stored a published record.
public struct DeliveryReceipt: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

public struct ConsumerRecord: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    public var timestamp: Date

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader],
        timestamp: Date
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    public var keyString: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }
}

/// What a group member sees, in order. `assigned` comes before any record of the partitions
/// it names; `revoked` comes after the last record of the partitions it names, and the
/// partitions move to another member only once this member asks for the next events, so a
/// member can commit its work and drop its state first.
public enum ConsumerEvent: Sendable, Equatable {
    case assigned([TopicPartition])
    case revoked([TopicPartition])
    case record(ConsumerRecord)
}

public enum BusError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownTopic(String)
    case deliveryFailed(topic: String, reason: String)
    case commitFailed(String)
    case closed
    case configuration(String)
    case unavailable(String)
    /// The broker (or the client before it) refuses this record for good, whatever the retries:
    /// it is too large or invalid. `index` is its place in the `publish` call.
    case recordRefused(topic: String, index: Int, reason: String)

    /// Whether this is `recordRefused`: no retry publishes that record.
    public var refusesARecord: Bool {
        if case .recordRefused = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .unknownTopic(let topic): "topic \"\(topic)\" does not exist and the broker does not create topics on demand"
        case .deliveryFailed(let topic, let reason): "publishing to \(topic) failed: \(reason)"
        case .commitFailed(let reason): "committing offsets failed: \(reason)"
        case .closed: "the client is closed"
        case .configuration(let reason): "invalid client configuration: \(reason)"
        case .unavailable(let reason): "the broker is unavailable: \(reason)"
        case .recordRefused(let topic, let index, let reason): "record \(index) for \(topic) was refused: \(reason)"
        }
    }
}
