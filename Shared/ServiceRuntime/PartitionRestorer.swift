import Foundation
import Logging
import MessageBus
import Metrics

/// Rebuilds the state of newly assigned partitions, all at once (each partition's reads
/// wait on the broker, so they overlap): the changelog partition from the start, then the
/// events published after the latest checkpoint it carries.
public struct PartitionRestorer: Sendable {
    let service: String
    let bus: any MessageBus
    let changelog: String
    let output: String
    let settings: ProcessingSettings
    let logger: Logger
    let makeState: @Sendable (Int32) -> any PartitionState

    public init(
        service: String, bus: any MessageBus, changelog: String, output: String, settings: ProcessingSettings,
        logger: Logger, makeState: @escaping @Sendable (Int32) -> any PartitionState
    ) {
        self.service = service
        self.bus = bus
        self.changelog = changelog
        self.output = output
        self.settings = settings
        self.logger = logger
        self.makeState = makeState
    }

    /// A restored partition. Its state was built by one child task and is handed over whole,
    /// never shared, hence the unchecked Sendable.
    public struct Restored: @unchecked Sendable {
        public let partition: Int32
        public let state: any PartitionState
        public let checkpoint: PartitionCheckpoint
        /// What the events since the checkpoint taught the state: keys to write to the
        /// changelog, and the records that went out with those events, to publish again.
        public let learned: PartitionEffects
        public let changelogRecords: Int
    }

    public func restore(_ partitions: [Int32]) async throws -> [Restored] {
        try await withThrowingTaskGroup(of: Restored.self) { group in
            for partition in partitions { group.addTask { try await restoreRetrying(partition) } }
            var restored = [Restored]()
            for try await partition in group { restored.append(partition) }
            return restored.sorted { $0.partition < $1.partition }
        }
    }

    private func restoreRetrying(_ partition: Int32) async throws -> Restored {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await restoreOnce(partition)
            } catch let error as CancellationError {
                throw error
            } catch {
                guard attempt < settings.maxAttempts else { throw error }
                logger.warning("restoring partition failed, retrying", metadata: [
                    "partition": "\(partition)", "attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: settings.backoff(afterAttempt: attempt))
            }
        }
    }

    private func restoreOnce(_ partition: Int32) async throws -> Restored {
        let started = ContinuousClock.now
        let state = makeState(partition)
        var restored = 0
        var unreadable = 0
        // The latest record that carries a checkpoint has the partition's (the last of each flush does).
        var checkpoint = PartitionCheckpoint()
        do {
            _ = try await bus.readPartition(TopicPartition(changelog, partition), from: 0) { records in
                for record in records {
                    if let carried = PartitionCheckpoint(headers: record.headers) { checkpoint = carried }
                    do {
                        try state.restore(record)
                    } catch {
                        unreadable += 1
                        logger.error("unreadable changelog record skipped", metadata: [
                            "partition": "\(partition)", "offset": "\(record.offset)", "error": "\(error)"])
                    }
                }
                restored += records.count
            }
            var observed = 0
            var learned = PartitionEffects.none
            checkpoint.output = try await bus.readPartition(TopicPartition(output, partition), from: checkpoint.output) { records in
                for record in records { learned += state.observe(published: record) }
                observed += records.count
            }
            let elapsed = ContinuousClock.now - started
            Timer(label: "helpdesk_state_restore_seconds", dimensions: [("service", service)])
                .recordSeconds(elapsed.timeInterval)
            Counter(label: "helpdesk_state_records_restored_total", dimensions: [("service", service)])
                .increment(by: Int64(restored))
            logger.info("partition restored", metadata: [
                "partition": "\(partition)", "changelogRecords": "\(restored)", "unreadable": "\(unreadable)",
                "eventsSinceCheckpoint": "\(observed)", "inputOffsets": "\(checkpoint.inputs)", "duration": "\(elapsed)"])
            return Restored(partition: partition, state: state, checkpoint: checkpoint, learned: learned,
                            changelogRecords: restored)
        } catch {
            state.dropped()
            throw error
        }
    }
}
