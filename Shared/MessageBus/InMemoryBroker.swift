import Foundation
import Synchronization

/// A deterministic in-process broker with Kafka's semantics where the services depend on
/// them: partitioned topics with murmur2 key partitioning, consumer groups whose partitions
/// are split by range assignment and rebalanced (eagerly) when members join or leave,
/// committed offsets, redelivery of uncommitted records, headers, and topics that are
/// created on demand or refused. Its one fault is a cut-off (`setReachable(false)`): what
/// consumers see while their broker is down.
public final class InMemoryBroker: MessageBus {
    public struct Configuration: Sendable {
        public var defaultPartitions: Int
        public var autoCreateTopics: Bool
        /// The largest record stored (key, value and headers), as a broker's `message.max.bytes`;
        /// a larger one is refused with `BusError.recordRefused`. 2 MiB, as the services' Kafka
        /// producer (`message.max.bytes`) refuses before sending.
        public var maxRecordBytes: Int
        public var now: @Sendable () -> Date

        public init(
            defaultPartitions: Int = 6, autoCreateTopics: Bool = true, maxRecordBytes: Int = 2_097_152,
            now: @escaping @Sendable () -> Date = Date.init
        ) {
            self.defaultPartitions = defaultPartitions
            self.autoCreateTopics = autoCreateTopics
            self.maxRecordBytes = maxRecordBytes
            self.now = now
        }
    }

    private let configuration: Configuration
    private let state = Mutex(BrokerState())

    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public convenience init(defaultPartitions: Int = 6, autoCreateTopics: Bool = true) {
        self.init(Configuration(defaultPartitions: defaultPartitions, autoCreateTopics: autoCreateTopics))
    }

    /// Creates a topic (no-op if it exists with any partition count).
    public func createTopic(_ name: String, partitions: Int) {
        state.withLock { state in
            if state.topics[name] == nil { state.topics[name] = TopicLog(partitions: partitions) }
        }
    }

    /// Grows a topic to `total` partitions, as Kafka's CreatePartitions does. Groups that read
    /// the topic rebalance, as Kafka consumers do once their metadata shows the new partitions.
    public func addPartitions(to topic: String, total: Int) {
        state.withLock { state -> [Waiter] in
            guard var log = state.topics[topic], total > log.partitions.count else { return [] }
            log.partitions += Array(repeating: [], count: total - log.partitions.count)
            state.topics[topic] = log
            var waiters = [Waiter]()
            for (name, group) in state.groups where group.members.values.contains(where: { $0.topics.contains(topic) }) {
                waiters += state.rebalance(group: name)
            }
            return waiters
        }.resumeAll()
    }

    public func makePublisher() throws -> any RecordPublisher { Publisher(broker: self) }

    public func makeQueries() throws -> any BrokerQueries { Queries(broker: self) }

    public func tail(_ topic: String) async throws -> any TopicTail {
        _ = try await partitionCount(of: topic)
        return Tail(broker: self, topic: topic, id: state.withLock { state in
            defer { state.nextTailID += 1 }
            return state.nextTailID
        })
    }

    /// Fault injection: while unreachable, group members are handed no events (records are
    /// still stored, and rebalances still happen), and their commits and offset queries fail
    /// with `BusError.unavailable`, as for consumers cut off from their broker. Publishing is
    /// not affected: records published meanwhile are there when the members reconnect, as a
    /// producer's queued records are delivered once the broker is back.
    public func setReachable(_ reachable: Bool) {
        state.withLock { state in
            state.reachable = reachable
            return reachable ? state.takeAllWaiters() : []
        }.resumeAll()
    }

    public func subscribe(group: String, topics: [String], instanceID: String?) async throws -> any GroupSubscription {
        let (memberID, waiters) = try state.withLock { state -> (Int, [Waiter]) in
            for topic in topics where state.topics[topic] == nil {
                guard configuration.autoCreateTopics else { throw BusError.unknownTopic(topic) }
                state.topics[topic] = TopicLog(partitions: configuration.defaultPartitions)
            }
            return state.join(group: group, topics: topics)
        }
        waiters.resumeAll()
        return Member(broker: self, group: group, memberID: memberID)
    }

    public func partitionCount(of topic: String) async throws -> Int {
        try state.withLock { state in
            guard let log = state.topics[topic] else {
                guard configuration.autoCreateTopics else { throw BusError.unknownTopic(topic) }
                state.topics[topic] = TopicLog(partitions: configuration.defaultPartitions)
                return configuration.defaultPartitions
            }
            return log.partitions.count
        }
    }

    public func readPartition(
        _ partition: TopicPartition, from offset: Int64, _ body: ([ConsumerRecord]) throws -> Void
    ) async throws -> Int64 {
        let records = try state.withLock { state -> ArraySlice<ConsumerRecord> in
            guard let log = state.topics[partition.topic] else {
                guard configuration.autoCreateTopics else { throw BusError.unknownTopic(partition.topic) }
                state.topics[partition.topic] = TopicLog(partitions: configuration.defaultPartitions)
                return []
            }
            guard partition.partition >= 0, Int(partition.partition) < log.partitions.count else {
                throw BusError.unknownTopic("\(partition)")
            }
            let all = log.partitions[Int(partition.partition)]
            return all[min(all.count, Int(max(0, offset)))...]
        }
        var start = records.startIndex
        while start < records.endIndex {
            let end = min(start + 1024, records.endIndex)
            try body(Array(records[start..<end]))
            start = end
        }
        return Int64(records.endIndex)
    }

    /// Every record of a partition, for tests that inspect what was written.
    public func records(in topic: String) -> [ConsumerRecord] {
        state.withLock { state in
            guard let log = state.topics[topic] else { return [] }
            return log.partitions.flatMap { $0 }.sorted { ($0.timestamp, $0.partition, $0.offset) < ($1.timestamp, $1.partition, $1.offset) }
        }
    }

    fileprivate func append(_ records: [OutgoingRecord]) throws -> [DeliveryReceipt] {
        let now = configuration.now()
        let (receipts, waiters) = try state.withLock { state -> ([DeliveryReceipt], [Waiter]) in
            for record in records where state.topics[record.topic] == nil {
                guard configuration.autoCreateTopics else { throw BusError.unknownTopic(record.topic) }
                state.topics[record.topic] = TopicLog(partitions: configuration.defaultPartitions)
            }
            for (index, record) in records.enumerated() {
                let bytes = record.byteCount
                if bytes > configuration.maxRecordBytes {
                    throw BusError.recordRefused(
                        topic: record.topic, index: index,
                        reason: "the record is \(bytes) bytes, more than the broker takes (\(configuration.maxRecordBytes))")
                }
                if let partition = record.partition, partition < 0 || Int(partition) >= state.topics[record.topic]!.partitions.count {
                    throw BusError.deliveryFailed(topic: record.topic, reason: "no partition \(partition)")
                }
            }
            var receipts = [DeliveryReceipt]()
            for record in records {
                receipts.append(state.topics[record.topic]!.append(record, at: now))
            }
            return (receipts, state.takeAllWaiters())
        }
        waiters.resumeAll()
        return receipts
    }

    private struct Publisher: RecordPublisher {
        let broker: InMemoryBroker
        func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] { try broker.append(records) }
        func close() async {}
    }

    /// Answers from the broker's state, or `BusError.unavailable` while it is unreachable.
    private struct Queries: BrokerQueries {
        let broker: InMemoryBroker

        func committed(_ partitions: [TopicPartition], ofGroup group: String) async throws -> [TopicPartition: Int64] {
            try broker.state.withLock { state in
                try state.checkReachable()
                let committed = state.groups[group]?.committed ?? [:]
                return committed.filter { partitions.contains($0.key) }
            }
        }

        func endOffsets(of partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
            try broker.state.withLock { state in
                try state.checkReachable()
                var ends = [TopicPartition: Int64]()
                for partition in partitions {
                    guard let log = state.topics[partition.topic], partition.partition >= 0,
                        Int(partition.partition) < log.partitions.count
                    else { throw BusError.unknownTopic("\(partition)") }
                    ends[partition] = Int64(log.partitions[Int(partition.partition)].count)
                }
                return ends
            }
        }

        func partitionCount(of topic: String) async throws -> Int {
            try broker.state.withLock { state in
                try state.checkReachable()
                guard let log = state.topics[topic] else { throw BusError.unknownTopic(topic) }
                return log.partitions.count
            }
        }

        func close() async {}
    }

    /// Follows a topic from its start; waits for appends like a group member does.
    private final class Tail: TopicTail {
        let broker: InMemoryBroker
        let topic: String
        let id: Int
        private let positions = Mutex<[Int64]>([])

        init(broker: InMemoryBroker, topic: String, id: Int) {
            self.broker = broker
            self.topic = topic
            self.id = id
        }

        func next(max: Int) async throws -> TailBatch {
            try Task.checkCancellation()
            let batch = read(max: max)
            guard batch.records.isEmpty else { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = broker.state.withLock { state -> Bool in
                        if Task.isCancelled || state.reachable && hasRecords(state) { return true }
                        state.tailWaiters[id] = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                broker.state.withLock { $0.tailWaiters.removeValue(forKey: id) }.map { [$0] }?.resumeAll()
            }
            try Task.checkCancellation()
            return read(max: max)
        }

        private func hasRecords(_ state: BrokerState) -> Bool {
            let partitions = state.topics[topic]?.partitions ?? []
            return positions.withLock { positions in
                partitions.indices.contains { $0 >= positions.count || positions[$0] < partitions[$0].count }
            }
        }

        private func read(max: Int) -> TailBatch {
            broker.state.withLock { state in
                let partitions = state.topics[topic]?.partitions ?? []
                return positions.withLock { positions in
                    if positions.count < partitions.count {
                        positions += Array(repeating: 0, count: partitions.count - positions.count)
                    }
                    // While the broker is unreachable, nothing new arrives.
                    guard state.reachable else { return TailBatch(records: [], reached: [:]) }
                    var records = [ConsumerRecord]()
                    var reached = [TopicPartition: Int64]()
                    for (index, log) in partitions.enumerated() {
                        let start = Int(positions[index])
                        let end = min(log.count, start + Swift.max(0, max - records.count))
                        records += log[start..<end]
                        positions[index] = Int64(end)
                        reached[TopicPartition(topic, Int32(index))] = Int64(end)
                    }
                    return TailBatch(records: records, reached: reached)
                }
            }
        }

        func close() async {
            broker.state.withLock { $0.tailWaiters.removeValue(forKey: id) }.map { [$0] }?.resumeAll()
        }
    }

    private struct Member: GroupSubscription {
        let broker: InMemoryBroker
        let group: String
        let memberID: Int

        func poll(max: Int) async throws -> [ConsumerEvent] {
            while true {
                try Task.checkCancellation()
                enum Outcome { case events([ConsumerEvent]), closed, wait }
                let (outcome, waiters) = broker.state.withLock { state -> (Outcome, [Waiter]) in
                    guard state.groups[group]?.members[memberID] != nil else { return (.closed, []) }
                    let waiters = state.acknowledgeRevocation(group: group, member: memberID)
                    let events = state.take(group: group, member: memberID, max: max)
                    return (events.isEmpty ? .wait : .events(events), waiters)
                }
                waiters.resumeAll()
                switch outcome {
                case .events(let events): return events
                case .closed: return []
                case .wait: break
                }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = broker.state.withLock { state -> Bool in
                            // Checked under the lock, so a cancellation either happened already or will find this waiter.
                            if Task.isCancelled || state.hasEvents(group: group, member: memberID) { return true }
                            state.groups[group]?.members[memberID]?.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    broker.state.withLock { $0.groups[group]?.members[memberID]?.takeWaiter() }.map { [$0] }?.resumeAll()
                }
            }
        }

        func commit(_ offsets: [TopicPartition: Int64]) async throws {
            try broker.state.withLock { state in
                try state.checkReachable()
                guard let member = state.groups[group]?.members[memberID] else { throw BusError.closed }
                for (partition, offset) in offsets {
                    // Kafka refuses commits for partitions the member no longer owns after a rebalance.
                    guard member.assigned.contains(partition) || member.pendingRevocation.contains(partition) else {
                        throw BusError.commitFailed("\(partition) is not assigned to this member")
                    }
                    state.groups[group]!.committed[partition] = offset
                }
            }
        }

        func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
            try await Queries(broker: broker).committed(partitions, ofGroup: group)
        }

        func close() async throws {
            broker.state.withLock { $0.leave(group: group, member: memberID) }.resumeAll()
        }
    }
}

typealias Waiter = CheckedContinuation<Void, Never>

extension Array where Element == Waiter {
    func resumeAll() { for waiter in self { waiter.resume() } }
}

private struct TopicLog {
    var partitions: [[ConsumerRecord]]
    var nextKeylessPartition = 0

    init(partitions: Int) { self.partitions = Array(repeating: [], count: partitions) }

    mutating func append(_ record: OutgoingRecord, at now: Date) -> DeliveryReceipt {
        let partition: Int
        if let explicit = record.partition {
            partition = Int(explicit)
        } else if let key = record.key {
            partition = Int(Murmur2Partitioner.partition(for: key, partitionCount: partitions.count))
        } else {
            partition = nextKeylessPartition
            nextKeylessPartition = (nextKeylessPartition + 1) % partitions.count
        }
        let offset = Int64(partitions[partition].count)
        partitions[partition].append(
            ConsumerRecord(
                topic: record.topic, partition: Int32(partition), offset: offset, key: record.key, value: record.value,
                headers: record.headers, timestamp: now))
        return DeliveryReceipt(topic: record.topic, partition: Int32(partition), offset: offset)
    }
}

private struct MemberState {
    var topics: [String]
    var assigned: [TopicPartition] = []
    var positions: [TopicPartition: Int64] = [:]
    var pending: [ConsumerEvent] = []
    /// Partitions revoked and handed out to the member, awaiting its next poll.
    var pendingRevocation: [TopicPartition] = []
    var revocationDelivered = false
    var nextPartitionIndex = 0
    var waiter: Waiter?

    mutating func takeWaiter() -> Waiter? {
        defer { waiter = nil }
        return waiter
    }
}

private struct GroupState {
    var members: [Int: MemberState] = [:]
    var joinOrder: [Int] = []
    var nextMemberID = 1
    var committed: [TopicPartition: Int64] = [:]
    /// Members that must acknowledge a revocation before partitions are handed out again.
    var awaitingRevocation: Set<Int> = []
}

private struct BrokerState {
    var topics: [String: TopicLog] = [:]
    var groups: [String: GroupState] = [:]
    var reachable = true
    var tailWaiters: [Int: Waiter] = [:]
    var nextTailID = 0

    func checkReachable() throws {
        guard reachable else { throw BusError.unavailable("the broker is unreachable") }
    }

    mutating func takeAllWaiters() -> [Waiter] {
        var waiters = Array(tailWaiters.values)
        tailWaiters.removeAll()
        for group in groups.keys {
            for member in groups[group]!.members.keys {
                if let waiter = groups[group]!.members[member]!.takeWaiter() { waiters.append(waiter) }
            }
        }
        return waiters
    }

    mutating func join(group name: String, topics: [String]) -> (Int, [Waiter]) {
        var group = groups[name] ?? GroupState()
        let id = group.nextMemberID
        group.nextMemberID += 1
        group.members[id] = MemberState(topics: topics)
        group.joinOrder.append(id)
        groups[name] = group
        return (id, rebalance(group: name))
    }

    mutating func leave(group name: String, member id: Int) -> [Waiter] {
        guard var member = groups[name]?.members.removeValue(forKey: id) else { return [] }
        groups[name]!.joinOrder.removeAll { $0 == id }
        groups[name]!.awaitingRevocation.remove(id)
        var waiters = member.takeWaiter().map { [$0] } ?? []
        waiters += rebalance(group: name)
        return waiters
    }

    /// Eager rebalance: every member gives up all its partitions; once each has acknowledged,
    /// partitions are assigned anew from the committed offsets.
    mutating func rebalance(group name: String) -> [Waiter] {
        var waiters = [Waiter]()
        for id in groups[name]!.joinOrder {
            var member = groups[name]!.members[id]!
            if !member.assigned.isEmpty {
                member.pending.append(.revoked(member.assigned))
                member.pendingRevocation = member.assigned
                member.revocationDelivered = false
                member.assigned = []
                member.positions = [:]
                groups[name]!.awaitingRevocation.insert(id)
            }
            // Records not yet handed out belong to the old assignment.
            member.pending.removeAll { if case .record = $0 { return true } else { return false } }
            if let waiter = member.takeWaiter() { waiters.append(waiter) }
            groups[name]!.members[id] = member
        }
        return waiters + completeRebalanceIfAcknowledged(group: name)
    }

    mutating func acknowledgeRevocation(group name: String, member id: Int) -> [Waiter] {
        guard let member = groups[name]?.members[id], member.revocationDelivered else { return [] }
        groups[name]!.members[id]!.revocationDelivered = false
        groups[name]!.members[id]!.pendingRevocation = []
        groups[name]!.awaitingRevocation.remove(id)
        return completeRebalanceIfAcknowledged(group: name)
    }

    private mutating func completeRebalanceIfAcknowledged(group name: String) -> [Waiter] {
        guard var group = groups[name], group.awaitingRevocation.isEmpty else { return [] }
        let unassigned = group.joinOrder.filter { id in
            let member = group.members[id]!
            return member.assigned.isEmpty && !member.pending.contains { if case .assigned = $0 { return true } else { return false } }
        }
        // Only rebalance when someone is waiting for an assignment (a fresh join or after a revocation).
        guard !unassigned.isEmpty else { return [] }
        var assignments: [Int: [TopicPartition]] = [:]
        let subscribed = Set(group.members.values.flatMap(\.topics)).sorted()
        for topic in subscribed {
            let consumers = group.joinOrder.filter { group.members[$0]!.topics.contains(topic) }
            let count = topics[topic]?.partitions.count ?? 0
            // Range assignment, as Kafka's default assignor does it per topic.
            let base = count / consumers.count
            let extra = count % consumers.count
            var next = 0
            for (index, id) in consumers.enumerated() {
                let take = base + (index < extra ? 1 : 0)
                for partition in next..<next + take {
                    assignments[id, default: []].append(TopicPartition(topic, Int32(partition)))
                }
                next += take
            }
        }
        var waiters = [Waiter]()
        for id in group.joinOrder {
            var member = group.members[id]!
            // Members that kept an assignment were revoked above, so everyone is assigned afresh.
            let partitions = assignments[id] ?? []
            member.assigned = partitions
            member.positions = Dictionary(uniqueKeysWithValues: partitions.map { ($0, group.committed[$0] ?? 0) })
            member.nextPartitionIndex = 0
            member.pending.append(.assigned(partitions))
            if let waiter = member.takeWaiter() { waiters.append(waiter) }
            group.members[id] = member
        }
        groups[name] = group
        return waiters
    }

    func hasEvents(group name: String, member id: Int) -> Bool {
        guard let member = groups[name]?.members[id] else { return true }
        guard reachable else { return false }
        if !member.pending.isEmpty || member.revocationDelivered { return true }
        return member.assigned.contains { partition in
            (member.positions[partition] ?? 0) < Int64(topics[partition.topic]?.partitions[Int(partition.partition)].count ?? 0)
        }
    }

    /// Pending control events first (a batch ends at a revocation), then records from the
    /// assigned partitions in turn.
    mutating func take(group name: String, member id: Int, max: Int) -> [ConsumerEvent] {
        guard reachable, var member = groups[name]?.members[id] else { return [] }
        defer { groups[name]!.members[id] = member }
        var events = [ConsumerEvent]()
        while !member.pending.isEmpty, events.count < max {
            let event = member.pending.removeFirst()
            events.append(event)
            if case .revoked = event {
                member.revocationDelivered = true
                return events
            }
        }
        guard groups[name]!.awaitingRevocation.isEmpty || !groups[name]!.awaitingRevocation.contains(id) else { return events }
        var idle = 0
        while events.count < max, !member.assigned.isEmpty, idle < member.assigned.count {
            let partition = member.assigned[member.nextPartitionIndex % member.assigned.count]
            member.nextPartitionIndex += 1
            let log = topics[partition.topic]!.partitions[Int(partition.partition)]
            let position = member.positions[partition] ?? 0
            if position < Int64(log.count) {
                events.append(.record(log[Int(position)]))
                member.positions[partition] = position + 1
                idle = 0
            } else {
                idle += 1
            }
        }
        return events
    }
}
