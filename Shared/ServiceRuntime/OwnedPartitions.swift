import Foundation
import MessageBus
import Metrics

/// A partition a stateful loop owns: its state, checkpoint, and effects not yet flushed.
final class OwnedPartition {
    let number: Int32
    let state: any PartitionState
    var checkpoint: PartitionCheckpoint
    var pending = PartitionEffects.none

    init(number: Int32, state: any PartitionState, checkpoint: PartitionCheckpoint) {
        self.number = number
        self.state = state
        self.checkpoint = checkpoint
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

/// What a stateful loop holds between turns: the partitions it owns with their gates, the
/// offsets to commit at the next flush, and its metrics.
struct OwnedPartitions {
    private(set) var owned: [Int32: OwnedPartition] = [:]
    var gates: FiringGates
    var commits: [TopicPartition: Int64] = [:]
    var metrics: LoopMetrics
    let skipped: Counter

    init(metrics: LoopMetrics, gates: FiringGates) {
        self.metrics = metrics
        self.gates = gates
        skipped = Counter(label: "helpdesk_inputs_already_reflected_total", dimensions: [("service", metrics.service)])
    }

    mutating func own(_ partition: OwnedPartition, gates partitionGates: [any FiringGate]) {
        owned[partition.number] = partition
        gates.own(partition.number, gates: partitionGates)
    }

    mutating func release(_ partition: Int32) {
        owned.removeValue(forKey: partition)?.state.dropped()
        gates.release(partition)
    }

    mutating func dropAll() {
        for partition in Array(owned.keys) { release(partition) }
    }

    /// Each owned partition's next deadline.
    var deadlines: [Int32: Date] { owned.compactMapValues(\.state.nextDeadline) }

    /// When the loop must wake for a timer: the earliest instant at which some partition's
    /// next deadline could pass its gates. Partitions waiting for input wake it with their records.
    func nextWake(now: Date) -> Date? {
        owned.values.compactMap { gates.wakeAt(for: $0.state.nextDeadline, of: $0.number, now: now) }.min()
    }

    /// Fires every partition whose next deadline its gates let through, up to how far they let
    /// it. Partitions share nothing but thread-safe metrics, so a burst of due timers spread over
    /// several partitions is fired on all cores; the loop waits for all of them.
    func fireDue(now: Date, outputTopic: String) {
        let due = owned.values.compactMap { owned -> (OwnedPartition, Date)? in
            guard let deadline = owned.state.nextDeadline else { return nil }
            let limit = gates.limit(of: owned.number, now: now)
            return deadline <= limit ? (owned, limit) : nil
        }
        guard !due.isEmpty else { return }
        let batch = FireBatch(due.map { ($0.0.state, $0.1) })
        DispatchQueue.concurrentPerform(iterations: due.count) { index in batch.fire(index) }
        for ((owned, _), effects) in zip(due, batch.results) { owned.take(effects, outputTopic: outputTopic) }
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
