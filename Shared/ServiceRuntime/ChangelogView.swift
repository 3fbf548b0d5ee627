import Foundation
import HelpdeskModel
import Logging
import MessageBus
import ServiceLifecycle
import Synchronization

/// The latest value of every key of a compacted topic (a changelog), kept in memory by following
/// the topic: what a status read answers from, so that a request makes no Kafka client and reads
/// no partition. A read is as fresh as the topic when it was asked: it first asks the key's
/// partition's end offset (one request on the service's long-lived `BrokerQueries`) and waits
/// until the view has read that far.
public final class ChangelogView: Service, Sendable {
    public let topic: String
    private let bus: any MessageBus
    private let queries: any BrokerQueries
    private let readTimeout: Duration
    /// Only these keys are kept (nil: every key).
    private let keys: Set<[UInt8]>?
    /// Whether the service stands on the view: a view it can go without (another service's
    /// topic, read for a hint) logs a failure and tries again rather than stopping the service.
    private let required: Bool
    private let retryAfter: Duration
    private let logger: Logger
    private let state = Mutex(ViewState())

    private struct ViewState {
        var values: [[UInt8]: [UInt8]] = [:]
        var reached: [Int32: Int64] = [:]
        var partitionCount: Int?
        var waiters: [Int: (partition: Int32, offset: Int64, continuation: CheckedContinuation<Void, any Error>)] = [:]
        var nextWaiter = 0
        var stopped = false

        /// Waiters whose partition has been read far enough, removed.
        mutating func satisfied() -> [CheckedContinuation<Void, any Error>] {
            let ready = waiters.filter { (reached[$0.value.partition] ?? 0) >= $0.value.offset }
            for id in ready.keys { waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
    }

    public init(topic: String, bus: any MessageBus, queries: any BrokerQueries, readTimeout: Duration = .seconds(5),
                keys: Set<String>? = nil, required: Bool = true, retryAfter: Duration = .seconds(5), logger: Logger) {
        self.topic = topic
        self.required = required
        self.retryAfter = retryAfter
        self.keys = keys.map { Set($0.map { Array($0.utf8) }) }
        self.bus = bus
        self.queries = queries
        self.readTimeout = readTimeout
        self.logger = logger
    }

    /// Whether the view has followed the topic up to where it was when the view began.
    public var isFollowing: Bool { state.withLock { $0.partitionCount != nil } }

    public func run() async throws {
        defer {
            let waiting = state.withLock { state in
                state.stopped = true
                defer { state.waiters.removeAll() }
                return state.waiters.values.map(\.continuation)
            }
            for waiter in waiting { waiter.resume(throwing: BusError.closed) }
        }
        var failures = 0
        while !Task.isShuttingDownGracefully {
            do {
                try await follow()
                return
            } catch is CancellationError {
                return
            } catch where !required {
                // Said at once, then every 60th attempt: a topic that never comes is not a log flood.
                logger.log(level: failures % 60 == 0 ? .warning : .debug,
                           "cannot follow \(topic); reads go without it, retrying in \(retryAfter)",
                           metadata: ["error": "\(error)", "attempts": "\(failures + 1)"])
                failures += 1
                do {
                    let retryAfter = self.retryAfter
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: retryAfter) }
                } catch {
                    return
                }
            }
        }
    }

    /// Reads the topic into the view until a graceful shutdown, from its start: a retry forgets
    /// what an earlier attempt read (a key deleted meanwhile may have no tombstone left).
    private func follow() async throws {
        state.withLock { state in
            state.values = [:]
            state.reached = [:]
            state.partitionCount = nil
        }
        let tail = try await bus.tail(topic)
        do {
            let count = try await queries.partitionCount(of: topic)
            state.withLock { $0.partitionCount = count }
            logger.info("following \(topic) for reads", metadata: ["partitions": "\(count)"])
            while !Task.isShuttingDownGracefully {
                let batch = try await cancelWhenGracefulShutdown { try await tail.next(max: 4096) }
                let ready = state.withLock { state in
                    for record in batch.records {
                        guard let key = record.key, keys?.contains(key) ?? true else { continue }
                        state.values[key] = record.value
                    }
                    for (partition, offset) in batch.reached {
                        state.reached[partition.partition] = max(state.reached[partition.partition] ?? 0, offset)
                    }
                    return state.satisfied()
                }
                for waiter in ready { waiter.resume() }
            }
        } catch {
            await tail.close()
            throw error
        }
        await tail.close()
    }

    /// The latest value stored under `key`, as of the topic when asked; nil when there is none
    /// or it was deleted. Throws `BusError.unavailable` when the broker does not say how far the
    /// key's partition goes, or the view does not get there within the read timeout.
    public func latest(forKey key: String) async throws -> [UInt8]? {
        guard let count = state.withLock({ $0.partitionCount }) else {
            throw BusError.unavailable("\(topic) is still being read")
        }
        let keyBytes = Array(key.utf8)
        let partition = TopicPartition(topic, Murmur2Partitioner.partition(for: keyBytes, partitionCount: count))
        let end = try await queries.endOffsets(of: [partition])[partition] ?? 0
        try await waitUntilRead(partition.partition, to: end)
        return state.withLock { $0.values[keyBytes] }
    }

    /// The latest value under `key` as far as the view has read, without asking the broker how
    /// far the topic goes: for reads where a value a moment old will do.
    public func current(forKey key: String) -> [UInt8]? {
        state.withLock { $0.values[Array(key.utf8)] }
    }

    /// `current(forKey:)` decoded from JSON; nil when absent or not a `T` (a record of another
    /// version, say: the reader goes without, as without the record).
    public func current<T: Decodable>(_ type: T.Type, forKey key: String) -> T? {
        current(forKey: key).flatMap { try? WireJSON.decode(T.self, from: $0) }
    }

    private func waitUntilRead(_ partition: Int32, to offset: Int64) async throws {
        let id = state.withLock { state -> Int? in
            guard (state.reached[partition] ?? 0) < offset else { return nil }
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        guard let id else { return }
        let timeout = readTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        let outcome = self.state.withLock { state -> Result<Void, any Error>? in
                            if state.stopped { return .failure(BusError.closed) }
                            if Task.isCancelled { return .failure(CancellationError()) }
                            if (state.reached[partition] ?? 0) >= offset { return .success(()) }
                            state.waiters[id] = (partition, offset, continuation)
                            return nil
                        }
                        if let outcome { continuation.resume(with: outcome) }
                    }
                } onCancel: {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw BusError.unavailable("\(self.topic)[\(partition)] not read up to \(offset) within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
