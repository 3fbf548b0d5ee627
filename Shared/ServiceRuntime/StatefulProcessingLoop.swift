import Foundation
import Logging
import MessageBus
import Metrics
import ServiceLifecycle

/// The loop of a stateful service (sla-timer, escalation): each instance owns the state of
/// the partitions assigned to it, restores it from a compacted changelog on assignment,
/// fires timers on an injected clock, and writes effects in an order that makes them
/// exactly-once across crashes, redeliveries and rebalances:
///
/// 1. events are published (to the partition of the input) and acknowledged;
/// 2. the changed keys' states are written to the changelog, the last record of each partition
///    carrying the partition's checkpoint (input offsets reflected, output offset reached), and
///    acknowledged;
/// 3. the input offsets are committed.
///
/// A crash after 1 leaves events the changelog does not know of: the next owner reads the
/// output partition from the checkpoint's output offset and lets the state learn them before
/// handling any input. A crash after 2 leaves inputs that are redelivered but already
/// reflected: they are skipped by offset.
///
/// Timers fire only as far as the partition's firing gates let them (`FiringGates`): its own
/// input read up to the broker's end offsets (`InputProgress`), an `upstream` group caught up
/// (`UpstreamProgress`), and whatever gates the service adds (the sla-timer's late-input hold).
public struct StatefulProcessingLoop: Service {
    public struct Source: Sendable {
        public var group: String
        /// Topics read together; with `changelog` and `output` they must be co-partitioned.
        public var inputs: [String]
        public var changelog: String
        /// The events topic whose records the state reflects (its partition p holds partition p's events).
        public var output: String
        public var instanceID: String?
        /// The stage the inputs come through, whose progress deadlines also wait for; nil for none.
        public var upstream: Upstream?
        /// The service's own gates for a partition, after its input read (and the upstream).
        public var gates: @Sendable (Int32) -> [any FiringGate]

        public init(group: String, inputs: [String], changelog: String, output: String, instanceID: String? = nil,
                    upstream: Upstream? = nil, gates: @escaping @Sendable (Int32) -> [any FiringGate] = { _ in [] }) {
            self.group = group
            self.inputs = inputs
            self.changelog = changelog
            self.output = output
            self.instanceID = instanceID
            self.upstream = upstream
            self.gates = gates
        }

        var coPartitionedTopics: [String] { inputs + [changelog, output] }

        /// Partition `number` of every input topic: what one owned partition reads.
        func inputPartitions(_ number: Int32) -> [TopicPartition] { inputs.map { TopicPartition($0, number) } }
    }

    let service: String
    let bus: any MessageBus
    let queries: any BrokerQueries
    let source: Source
    let handling: RecordHandling
    let clock: any WallClock
    let joined: ReadinessFlag
    let logger: Logger
    let makeState: @Sendable (Int32) -> any PartitionState
    /// The group membership a service hosts; nil: the loop joins and leaves by itself.
    let membership: GroupMembership?

    public init(
        service: String, bus: any MessageBus, queries: any BrokerQueries, source: Source, publisher: any RecordPublisher,
        settings: ProcessingSettings, clock: any WallClock = SystemWallClock(), joined: ReadinessFlag = ReadinessFlag(),
        stall: StallWatch = StallWatch(), membership: GroupMembership? = nil, logger: Logger,
        makeState: @escaping @Sendable (Int32) -> any PartitionState
    ) {
        self.membership = membership
        self.service = service
        self.bus = bus
        self.queries = queries
        self.source = source
        self.handling = RecordHandling(
            service: service, publisher: publisher, settings: settings, logger: logger, now: clock.now, stall: stall)
        self.clock = clock
        self.joined = joined
        self.logger = logger
        self.makeState = makeState
    }

    public func run() async throws {
        var shared = [any FiringGate]()
        if let upstream = source.upstream {
            let count = try await queries.partitionCount(of: upstream.topic)
            shared.append(UpstreamProgress(upstream, partitionCount: count, countedAt: clock.now()))
        }
        var work = OwnedPartitions(
            metrics: LoopMetrics(service: service),
            gates: FiringGates(shared: shared, queries: queries, service: service, logger: logger))
        let (service, bus, source) = (self.service, self.bus, self.source)
        let membership = self.membership ?? GroupMembership(
            bus: bus, group: source.group, topics: source.inputs, instanceID: source.instanceID, joined: joined, logger: logger
        ) { try await Self.checkCoPartitioning(source, of: service, on: bus) }
        try await membership.withSubscription { subscription in
            // Graceful shutdown interrupts only the wait: work in hand is published, written
            // to the changelog and committed before the loop ends.
            while !Task.isShuttingDownGracefully {
                let next = work.nextWake(now: clock.now())
                let wake = try await cancelWhenGracefulShutdown { try await waitForEvents(subscription, orUntil: next) }
                if case .events(let batch) = wake {
                    if batch.isEmpty { break }
                    try await handle(batch, subscription: subscription, work: &work)
                }
                try await work.gates.check(work.deadlines, now: clock.now())
                work.fireDue(now: clock.now(), outputTopic: source.output)
                try await flush(&work, subscription: subscription)
            }
        }
        work.dropAll()
    }

    /// Refuses to start when the topics read and written together have different partition
    /// counts: a ticket's input, events and state would then live in different partitions.
    static func checkCoPartitioning(_ source: Source, of service: String, on bus: any MessageBus) async throws {
        var counts = [(String, Int)]()
        for topic in source.coPartitionedTopics { counts.append((topic, try await bus.partitionCount(of: topic))) }
        guard Set(counts.map(\.1)).count == 1 else {
            throw ConfigurationError(problems: [
                "topics \(counts.map { "\($0.0) (\($0.1) partitions)" }.joined(separator: ", ")) must have the same "
                    + "partition count: \(service) keeps each ticket's input, events and state in the same partition. "
                    + "Recreate them with equal counts (docs/operations.md, \"Adding partitions\")."
            ])
        }
    }

    private enum Wake { case events([ConsumerEvent]), timer }

    /// The next events, or `.timer` once the clock reaches `deadline`, whichever comes first.
    /// A poll that loses the race is cancelled, which leaves its events for the next poll.
    private func waitForEvents(_ subscription: any GroupSubscription, orUntil deadline: Date?) async throws -> Wake {
        let maxBatch = handling.settings.maxBatch
        guard let deadline else { return .events(try await subscription.poll(max: maxBatch)) }
        if deadline <= clock.now() { return .timer }
        let clock = self.clock
        return try await withThrowingTaskGroup(of: Wake?.self) { group in
            group.addTask {
                do { return .events(try await subscription.poll(max: maxBatch)) } catch is CancellationError { return nil }
            }
            group.addTask {
                do {
                    try await clock.sleep(until: deadline)
                    return .timer
                } catch is CancellationError { return nil }
            }
            var outcome: Wake?
            while let next = try await group.next() {
                group.cancelAll()
                // Events taken by the poll must not be dropped, even if the timer also fired.
                if case .events = next { outcome = next } else if outcome == nil, let next { outcome = next }
            }
            guard let outcome else { throw CancellationError() }
            return outcome
        }
    }

    private func handle(_ batch: [ConsumerEvent], subscription: any GroupSubscription, work: inout OwnedPartitions) async throws {
        for event in batch {
            switch event {
            case .record(let record):
                work.metrics.recordIn(record.topic)
                work.commits[record.topicPartition] = record.offset + 1
                guard let owned = work.owned[record.partition] else { continue }
                if owned.checkpoint.reflects(record) {
                    work.skipped.increment()
                    work.gates.read(record, eventTime: nil)
                    continue
                }
                var effects = PartitionEffects.none
                let records = try await handling.outputs(for: record, metrics: &work.metrics) {
                    effects = try owned.state.handle(record)
                    return effects.records
                }
                work.gates.read(record, eventTime: effects.eventTime)
                owned.checkpoint.inputs[record.topic] = record.offset + 1
                owned.take(PartitionEffects(records: records, changedKeys: effects.changedKeys), outputTopic: source.output)
            case .assigned(let partitions):
                try await flush(&work, subscription: subscription)
                try await own(Set(partitions.map(\.partition)).subtracting(work.owned.keys).sorted(), subscription, &work)
                work.metrics.assigned(partitions.count)
                joined.set(true)
            case .revoked(let partitions):
                try await flush(&work, subscription: subscription)
                for partition in Set(partitions.map(\.partition)) { work.release(partition) }
                work.metrics.revoked(partitions.count)
            }
        }
    }

    /// Restores newly assigned partitions and starts their gates: input is read from the
    /// committed offset, and what the checkpoint reflects is skipped.
    private func own(_ fresh: [Int32], _ subscription: any GroupSubscription, _ work: inout OwnedPartitions) async throws {
        let restorer = PartitionRestorer(
            service: service, bus: bus, changelog: source.changelog, output: source.output,
            settings: handling.settings, logger: logger, makeState: makeState)
        let restoredPartitions = try await restorer.restore(fresh)
        let committed = try await subscription.committed(restoredPartitions.flatMap { source.inputPartitions($0.partition) })
        for restored in restoredPartitions {
            let positions = Dictionary(uniqueKeysWithValues: source.inputPartitions(restored.partition).map { input in
                (input, max(committed[input] ?? 0, restored.checkpoint.inputs[input.topic] ?? 0))
            })
            let owned = OwnedPartition(number: restored.partition, state: restored.state, checkpoint: restored.checkpoint)
            // What the events taught the state is saved with the next flush, so a later
            // restore, which starts reading events after this checkpoint, keeps it; the
            // notifications that went with them are published again.
            owned.take(restored.learned, outputTopic: source.output)
            work.own(owned, gates: [InputProgress(positions: positions)] + source.gates(restored.partition))
        }
    }

    /// Events, then changelog, then commits: see the type's documentation.
    private func flush(_ work: inout OwnedPartitions, subscription: any GroupSubscription) async throws {
        let owned = work.owned.values.filter { !$0.pending.records.isEmpty || !$0.pending.changedKeys.isEmpty }
        let receipts = try await handling.publishUntilAcknowledged(owned.flatMap(\.pending.records), metrics: &work.metrics)
        for receipt in receipts where receipt.topic == source.output {
            if let owner = work.owned[receipt.partition] {
                owner.checkpoint.output = max(owner.checkpoint.output, receipt.offset + 1)
            }
        }
        var changelog = [OutgoingRecord]()
        for partition in owned {
            var written = Set<String>()
            for key in partition.pending.changedKeys where written.insert(key).inserted {
                changelog.append(OutgoingRecord(
                    topic: source.changelog, key: key, value: partition.state.changelogValue(forKey: key),
                    partition: partition.number))
            }
            // Only the partition's last record carries the checkpoint. A flush can reach the
            // broker in several requests, and one cut off (a crash, an outage) leaves the
            // records before it in place: a checkpoint on those would claim inputs whose state
            // never arrived. Records of a partition are stored in order, so a visible checkpoint
            // means every record of its flush is there.
            if !written.isEmpty { changelog[changelog.count - 1].headers = partition.checkpoint.headers }
            partition.pending = .none
        }
        _ = try await handling.publishUntilAcknowledged(changelog, metrics: &work.metrics)
        try await handling.commit(work.commits, to: subscription, metrics: work.metrics)
        work.commits.removeAll(keepingCapacity: true)
    }
}
