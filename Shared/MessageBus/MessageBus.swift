/// Publishes records and returns only once the broker has acknowledged every one of them.
public protocol RecordPublisher: Sendable {
    /// Publishes the records (in order per partition) and waits for all acknowledgements.
    /// Throws if any record was not stored; the others may have been.
    func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt]
    /// Waits for outstanding deliveries and releases the client.
    func close() async
    /// Whether the client reaches its brokers now (readiness, and what the HTTP APIs accept).
    var isReachable: Bool { get }
}

extension RecordPublisher {
    public var isReachable: Bool { true }

    @discardableResult
    public func publish(_ record: OutgoingRecord) async throws -> DeliveryReceipt {
        try await publish([record])[0]
    }
}

/// One member of a consumer group.
public protocol GroupSubscription: Sendable {
    /// Waits until at least one event is available and returns up to `max` of them. A batch
    /// ends at a `revoked` event; asking for the next batch acknowledges it. Returns an empty
    /// array once the subscription is closed. Throws `CancellationError` when the task is
    /// cancelled.
    func poll(max: Int) async throws -> [ConsumerEvent]
    /// Commits, for each partition, the offset of the next record to read.
    func commit(_ offsets: [TopicPartition: Int64]) async throws
    /// The group's committed offsets for these partitions (partitions without one are absent).
    func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64]
    /// Leaves the group. Uncommitted records go to whoever gets their partitions next.
    func close() async throws
}

extension GroupSubscription {
    /// The events as an `AsyncSequence`.
    public var events: ConsumerEvents { ConsumerEvents(subscription: self) }
}

/// Questions about the cluster, asked of the broker now (never a cached value). One long-lived
/// client per service answers them all: the firing gates' checks and the HTTP reads.
public protocol BrokerQueries: Sendable {
    /// A group's committed offsets for these partitions (partitions without one are absent).
    /// Throws `BusError.unavailable` when the broker does not answer in time.
    func committed(_ partitions: [TopicPartition], ofGroup group: String) async throws -> [TopicPartition: Int64]
    /// The partitions' end offsets: every record stored before the call has an offset below its
    /// partition's end. Throws `BusError.unavailable` when the broker does not answer in time.
    func endOffsets(of partitions: [TopicPartition]) async throws -> [TopicPartition: Int64]
    /// The topic's partition count: partitions added since the client began are counted. Throws
    /// `BusError.unavailable` when the broker does not answer in time, `BusError.unknownTopic`
    /// when there is no such topic.
    func partitionCount(of topic: String) async throws -> Int
    /// Releases the client; questions asked afterwards throw `BusError.closed`.
    func close() async
}

/// Every partition of a topic, read from its start and followed as records arrive, outside any
/// group (nothing is committed): a read model's source.
public protocol TopicTail: Sendable {
    /// The next records, in order per partition, and how far each partition has been read: waits
    /// until there are records or up to about a tenth of a second (an empty batch then).
    func next(max: Int) async throws -> TailBatch
    func close() async
}

public struct TailBatch: Sendable {
    public var records: [ConsumerRecord]
    /// Per partition, the offset of the next record to read, as far as this batch goes.
    public var reached: [TopicPartition: Int64]

    public init(records: [ConsumerRecord], reached: [TopicPartition: Int64]) {
        self.records = records
        self.reached = reached
    }
}

/// A broker: Kafka, or the in-memory double used by fast tests.
public protocol MessageBus: Sendable {
    func makePublisher() throws -> any RecordPublisher
    /// The service's one client for questions about the cluster; the caller closes it.
    func makeQueries() throws -> any BrokerQueries
    /// Follows every partition of `topic` from its start; the caller closes it.
    func tail(_ topic: String) async throws -> any TopicTail
    func subscribe(group: String, topics: [String], instanceID: String?) async throws -> any GroupSubscription
    func partitionCount(of topic: String) async throws -> Int
    /// Reads one partition outside any group, from `offset` up to its end as it was when the
    /// read began, handing records over in batches, in order. Returns the offset after the
    /// last record read (the end offset). Stateful services restore from changelogs with it.
    func readPartition(
        _ partition: TopicPartition, from offset: Int64, _ body: ([ConsumerRecord]) throws -> Void
    ) async throws -> Int64
}

extension MessageBus {
    public func subscribe(group: String, topics: [String]) async throws -> any GroupSubscription {
        try await subscribe(group: group, topics: topics, instanceID: nil)
    }
}

extension MessageBus {
    /// The latest value stored under `key` in a topic keyed like the changelogs (murmur2 over
    /// the key), read from the key's partition; nil if there is none or it was deleted.
    public func latestValue(forKey key: String, in topic: String) async throws -> ConsumerRecord? {
        let count = try await partitionCount(of: topic)
        let keyBytes = Array(key.utf8)
        let partition = Murmur2Partitioner.partition(for: keyBytes, partitionCount: count)
        var latest: ConsumerRecord?
        _ = try await readPartition(TopicPartition(topic, partition), from: 0) { records in
            for record in records where record.key == keyBytes { latest = record }
        }
        return latest?.value == nil ? nil : latest
    }
}

public struct ConsumerEvents: AsyncSequence, Sendable {
    public typealias Element = ConsumerEvent
    let subscription: any GroupSubscription

    public func makeAsyncIterator() -> Iterator { Iterator(subscription: subscription) }

    public struct Iterator: AsyncIteratorProtocol {
        let subscription: any GroupSubscription
        var buffer: [ConsumerEvent] = []
        var index = 0

        public mutating func next() async throws -> ConsumerEvent? {
            if index == buffer.count {
                buffer = try await subscription.poll(max: 512)
                index = 0
                if buffer.isEmpty { return nil }
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}
