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
/// Timers fire only on complete input (`InputProgress`): before a deadline fires, the loop
/// asks the broker for the inputs' end offsets and waits until it has read up to them. With an
/// `upstream`, it first waits until that group has handled its topic up to the deadline
/// (`UpstreamProgress`), so that input still on its way through the upstream stage counts too.
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

        public init(group: String, inputs: [String], changelog: String, output: String, instanceID: String? = nil,
                    upstream: Upstream? = nil) {
            self.group = group
            self.inputs = inputs
            self.changelog = changelog
            self.output = output
            self.instanceID = instanceID
            self.upstream = upstream
        }

        var coPartitionedTopics: [String] { inputs + [changelog, output] }

        /// Partition `number` of every input topic: what one owned partition reads.
        func inputPartitions(_ number: Int32) -> [TopicPartition] { inputs.map { TopicPartition($0, number) } }
    }

    let service: String
    let bus: any MessageBus
    let source: Source
    let handling: RecordHandling
    let clock: any WallClock
    let joined: ReadinessFlag
    let logger: Logger
    let makeState: @Sendable (Int32) -> any PartitionState

    public init(
        service: String, bus: any MessageBus, source: Source, publisher: any RecordPublisher,
        settings: ProcessingSettings, clock: any WallClock = SystemWallClock(), joined: ReadinessFlag = ReadinessFlag(),
        stall: StallWatch = StallWatch(), logger: Logger, makeState: @escaping @Sendable (Int32) -> any PartitionState
    ) {
        self.service = service
        self.bus = bus
        self.source = source
        self.handling = RecordHandling(
            service: service, publisher: publisher, settings: settings, logger: logger, now: clock.now, stall: stall)
        self.clock = clock
        self.joined = joined
        self.logger = logger
        self.makeState = makeState
    }

    public func run() async throws {
        try await checkCoPartitioning()
        let subscription = try await bus.subscribe(group: source.group, topics: source.inputs, instanceID: source.instanceID)
        var work = Work(metrics: LoopMetrics(service: service))
        if let upstream = source.upstream {
            let count = try await bus.partitionCount(of: upstream.topic)
            work.upstream = UpstreamProgress(upstream, partitionCount: count, countedAt: clock.now())
        }
        logger.info("consuming", metadata: ["group": "\(source.group)", "topics": "\(source.inputs)",
                                            "changelog": "\(source.changelog)"])
        do {
            // Graceful shutdown interrupts only the wait: work in hand is published, written
            // to the changelog and committed before the loop ends.
            while !Task.isShuttingDownGracefully {
                let deadline = work.nextDeadline
                let wake = try await cancelWhenGracefulShutdown {
                    try await waitForEvents(subscription, orUntil: deadline)
                }
                if case .events(let batch) = wake {
                    if batch.isEmpty { break }
                    try await handle(batch, subscription: subscription, work: &work)
                }
                try await checkInputs(&work, subscription: subscription)
                fireTimers(&work)
                try await flush(&work, subscription: subscription)
            }
        } catch is CancellationError {
            // Shutting down while waiting: nothing is in flight.
        } catch {
            logger.error("processing stopped", metadata: ["error": "\(error)"])
            try? await subscription.close()
            throw error
        }
        for owned in work.owned.values { owned.state.dropped() }
        joined.set(false)
        try await subscription.close()
        logger.info("consumer closed", metadata: ["group": "\(source.group)"])
    }

    /// Refuses to start when the topics read and written together have different partition
    /// counts: a ticket's input, events and state would then live in different partitions.
    func checkCoPartitioning() async throws {
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

    private func handle(_ batch: [ConsumerEvent], subscription: any GroupSubscription, work: inout Work) async throws {
        for event in batch {
            switch event {
            case .record(let record):
                work.metrics.recordIn(record.topic)
                work.commits[record.topicPartition] = record.offset + 1
                guard let owned = work.owned[record.partition] else { continue }
                if owned.progress.read(record.topicPartition, offset: record.offset) {
                    logger.debug("input read up to the check; timers resume", metadata: ["partition": "\(record.partition)"])
                }
                if owned.checkpoint.reflects(record) {
                    work.skipped.increment()
                    continue
                }
                var changed = [String]()
                let records = try await handling.outputs(for: record, metrics: &work.metrics) {
                    let effects = try owned.state.handle(record)
                    changed = effects.changedKeys
                    return effects.records
                }
                owned.checkpoint.inputs[record.topic] = record.offset + 1
                owned.take(PartitionEffects(records: records, changedKeys: changed), outputTopic: source.output)
            case .assigned(let partitions):
                try await flush(&work, subscription: subscription)
                let fresh = Set(partitions.map(\.partition)).subtracting(work.owned.keys).sorted()
                let restorer = PartitionRestorer(
                    service: service, bus: bus, changelog: source.changelog, output: source.output,
                    settings: handling.settings, logger: logger, makeState: makeState)
                let restoredPartitions = try await restorer.restore(fresh)
                let committed = try await subscription.committed(
                    restoredPartitions.flatMap { source.inputPartitions($0.partition) })
                for restored in restoredPartitions {
                    let inputs = source.inputPartitions(restored.partition)
                    let owned = OwnedPartition(
                        number: restored.partition, state: restored.state, checkpoint: restored.checkpoint,
                        // Input is read from the committed offset; what the checkpoint reflects is skipped.
                        positions: Dictionary(uniqueKeysWithValues: inputs.map { input in
                            (input, max(committed[input] ?? 0, restored.checkpoint.inputs[input.topic] ?? 0))
                        }))
                    // What the events taught the state is saved with the next flush, so a later
                    // restore, which starts reading events after this checkpoint, keeps it; the
                    // notifications that went with them are published again.
                    owned.take(restored.learned, outputTopic: source.output)
                    work.owned[restored.partition] = owned
                }
                work.metrics.assigned(partitions.count)
                joined.set(true)
            case .revoked(let partitions):
                try await flush(&work, subscription: subscription)
                for partition in Set(partitions.map(\.partition)) {
                    work.owned.removeValue(forKey: partition)?.state.dropped()
                }
                work.metrics.revoked(partitions.count)
            }
        }
    }

    /// Asks the broker how far the input of partitions with a due timer goes, in one request,
    /// once the upstream group (if any) is known to have handled its topic up to their deadlines.
    /// Until the broker answers (an outage), those timers wait, and the question is asked again.
    private func checkInputs(_ work: inout Work, subscription: any GroupSubscription) async throws {
        let now = clock.now()
        var due = work.owned.values.filter { $0.progress.needsCheck(for: $0.state.nextDeadline, now: now) }
        guard !due.isEmpty else { return }
        if var upstream = work.upstream {
            let waiting = due.compactMap(\.state.nextDeadline).filter { $0 > upstream.through }
            if let earliest = waiting.min(), let question = upstream.question(for: earliest, now: now) {
                try await ask(question, of: &upstream, now: now, work: &work, subscription: subscription)
                work.upstream = upstream
            }
            due = due.filter { $0.state.nextDeadline.map { $0 <= upstream.through } ?? false }
            guard !due.isEmpty else { return }
        }
        // Asked after the upstream's commits, so these end offsets include what it published for them.
        let covered = work.upstream?.covered(asOf: now) ?? now
        let inputs = due.flatMap { source.inputPartitions($0.number) }
        let ends: [TopicPartition: Int64]
        do {
            ends = try await subscription.endOffsets(of: inputs)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let retryAt = now.addingTimeInterval(Self.checkRetryInterval)
            for owned in due { owned.progress.checkFailed(retryAt: retryAt) }
            checkFailed(&work, "timers wait: the broker does not say how far the input goes", error)
            return
        }
        checkAnswered(&work)
        for owned in due {
            if owned.progress.checked(ends: ends.filter { $0.key.partition == owned.number }, asOf: covered) {
                work.checks.read.increment()
            } else {
                work.checks.behind.increment()
                logger.debug("timers wait for the input", metadata: [
                    "partition": "\(owned.number)", "until": "\(owned.progress.pendingDescription)"])
            }
        }
    }

    static let checkRetryInterval: TimeInterval = 0.5

    /// Asks how far the upstream group has got. Its answers, and a broker that does not answer,
    /// leave the due timers waiting (up to the upstream's `maxWait`): only cancellation is thrown.
    private func ask(
        _ question: UpstreamProgress.Question, of upstream: inout UpstreamProgress,
        now: Date, work: inout Work, subscription: any GroupSubscription
    ) async throws {
        let group = upstream.settings.group
        let answer: UpstreamProgress.Answer
        do {
            switch question {
            case .endsAndCommits:
                if upstream.recountDue(now: now) { try await recount(&upstream, now: now, subscription: subscription) }
                let ends = try await subscription.endOffsets(of: upstream.partitions)
                let committed = try await subscription.committed(upstream.partitions, ofGroup: group)
                answer = upstream.checked(ends: ends, committed: committed, asOf: now)
            case .commits:
                let committed = try await subscription.committed(upstream.partitions, ofGroup: group)
                answer = upstream.polled(committed: committed, now: now)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            upstream.failed(retryAt: now.addingTimeInterval(Self.checkRetryInterval))
            checkFailed(&work, "timers wait: the broker does not say how far \(group) has got", error)
            return
        }
        checkAnswered(&work)
        switch answer {
        case .caughtUp:
            work.checks.upstreamCaughtUp.increment()
        case .behind(let partitions):
            work.checks.upstreamBehind.increment()
            logger.debug("timers wait for \(group)", metadata: ["until": "\(Self.describe(partitions))"])
        case .gaveUp(let partitions):
            work.checks.upstreamGaveUp.increment()
            logger.warning("timers stop waiting for \(group): still behind after the longest wait", metadata: [
                "until": "\(Self.describe(partitions))", "max_wait": "\(upstream.settings.maxWait)"])
        }
    }

    /// Counts the upstream topic's partitions again, so that partitions added to it are waited
    /// for too. A count the broker does not give holds no timer: the partitions known stand until
    /// the next recount, and the end offsets asked next meet the same broker.
    private func recount(_ upstream: inout UpstreamProgress, now: Date, subscription: any GroupSubscription) async throws {
        let topic = upstream.settings.topic
        var count: Int?
        do {
            count = try await subscription.partitionCount(of: topic)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.debug("the partitions of \(topic) were not counted", metadata: ["error": "\(error)"])
        }
        if let count, count > upstream.partitions.count {
            logger.info("\(topic) has \(count) partitions now; timers wait for \(upstream.settings.group) on all of them",
                        metadata: ["before": "\(upstream.partitions.count)"])
        }
        upstream.counted(count, at: now)
    }

    /// Counts a check the broker did not answer, and says so once per outage.
    private func checkFailed(_ work: inout Work, _ message: Logger.Message, _ error: any Error) {
        work.checks.failed.increment()
        if !work.checksFailing {
            work.checksFailing = true
            logger.warning(message, metadata: ["error": "\(error)"])
        }
    }

    private func checkAnswered(_ work: inout Work) {
        if work.checksFailing {
            work.checksFailing = false
            logger.info("the broker answers again; timers fire once the input is read")
        }
    }

    private static func describe(_ ends: [TopicPartition: Int64]) -> String {
        ends.map { "\($0.key)@\($0.value)" }.sorted().joined(separator: ", ")
    }

    private func fireTimers(_ work: inout Work) {
        let now = clock.now()
        let due = work.owned.values.filter { owned in
            owned.state.nextDeadline.map { $0 <= owned.progress.firingLimit(now: now) } ?? false
        }
        guard !due.isEmpty else { return }
        // Partitions share nothing but thread-safe metrics, so a burst of due timers spread
        // over several partitions is fired on all cores; the loop waits for all of them.
        let batch = FireBatch(due.map { ($0.state, $0.progress.firingLimit(now: now)) })
        DispatchQueue.concurrentPerform(iterations: due.count) { index in batch.fire(index) }
        for (owned, effects) in zip(due, batch.results) { owned.take(effects, outputTopic: source.output) }
    }

    /// Events, then changelog, then commits: see the type's documentation.
    private func flush(_ work: inout Work, subscription: any GroupSubscription) async throws {
        let owned = work.owned.values.filter { !$0.pending.records.isEmpty || !$0.pending.changedKeys.isEmpty }
        let events = owned.flatMap(\.pending.records)
        let receipts = try await handling.publishUntilAcknowledged(events, metrics: &work.metrics)
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
        try await handling.commit(work.commits, to: subscription)
        work.commits.removeAll(keepingCapacity: true)
    }
}

/// A partition this instance owns: its state, checkpoint, and effects not yet flushed.
final class OwnedPartition {
    let number: Int32
    let state: any PartitionState
    var checkpoint: PartitionCheckpoint
    var pending = PartitionEffects.none
    var progress: InputProgress

    init(number: Int32, state: any PartitionState, checkpoint: PartitionCheckpoint, positions: [TopicPartition: Int64]) {
        self.number = number
        self.state = state
        self.checkpoint = checkpoint
        progress = InputProgress(positions: positions)
    }

    /// Queues effects; events for the output topic go to this partition, whatever their key.
    func take(_ effects: PartitionEffects, outputTopic: String) {
        for var record in effects.records {
            if record.topic == outputTopic { record.partition = number }
            pending.records.append(record)
        }
        pending.changedKeys += effects.changedKeys
    }
}

private struct Work {
    var owned: [Int32: OwnedPartition] = [:]
    var commits: [TopicPartition: Int64] = [:]
    var metrics: LoopMetrics
    let skipped: Counter
    let checks: (read: Counter, behind: Counter, failed: Counter, upstreamCaughtUp: Counter, upstreamBehind: Counter,
                 upstreamGaveUp: Counter)
    var checksFailing = false
    /// How far the upstream group has got; nil without an upstream.
    var upstream: UpstreamProgress?

    init(metrics: LoopMetrics) {
        self.metrics = metrics
        skipped = Counter(label: "helpdesk_inputs_already_reflected_total", dimensions: [("service", metrics.service)])
        func checks(_ outcome: String) -> Counter {
            Counter(label: "helpdesk_timer_input_checks_total", dimensions: [("service", metrics.service), ("outcome", outcome)])
        }
        self.checks = (checks("read"), checks("behind"), checks("failed"), checks("upstream_caught_up"),
                       checks("upstream_behind"), checks("upstream_gave_up"))
    }

    /// When the loop must wake for a timer: partitions waiting for input wake it with their records,
    /// a deadline waiting for the upstream group wakes it when the group is to be asked again.
    var nextDeadline: Date? {
        owned.values.compactMap { owned -> Date? in
            if let upstream, let deadline = owned.state.nextDeadline,
               deadline > owned.progress.readThrough, deadline > upstream.through {
                return upstream.wakeAt(for: deadline)
            }
            return owned.progress.wakeAt(for: owned.state.nextDeadline)
        }.min()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Due partitions fired in parallel: iteration i touches only state i and result slot i,
/// and the loop reads the results after `concurrentPerform` has returned.
private final class FireBatch: @unchecked Sendable {
    private let states: [(state: any PartitionState, now: Date)]
    private let slots: UnsafeMutableBufferPointer<PartitionEffects>

    init(_ states: [(state: any PartitionState, now: Date)]) {
        self.states = states
        slots = .allocate(capacity: states.count)
        slots.initialize(repeating: .none)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    func fire(_ index: Int) {
        slots[index] = states[index].state.fire(now: states[index].now)
    }

    var results: [PartitionEffects] { Array(slots) }
}
