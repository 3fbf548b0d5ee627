import DequeModule
import Foundation
import MessageBus

/// Hands events from the consumer's poll thread to the async `poll(max:)` caller.
///
/// Bounded: the poll thread blocks while it is full (librdkafka keeps prefetching into its
/// own queue meanwhile). A revocation is a rendezvous: the poll thread waits inside
/// librdkafka's rebalance callback until the application has asked for the events after
/// the `revoked` one, so the application can commit and drop state before the partitions
/// move on. Records of the revoked partitions that the application has not taken yet are
/// dropped: uncommitted, they go to the partitions' next owner, and handling them here would
/// only delay the revocation (a full buffer is thousands of records) and, after a lost
/// session, publish as a member that no longer owns them.
final class ConsumerEventBuffer: @unchecked Sendable {
    private enum Revocation { case none, queued, delivered, acknowledged }

    private let condition = NSCondition()
    private let capacity: Int
    private var events = Deque<ConsumerEvent>()
    private var closed = false
    private var revocation = Revocation.none
    private var waiter: CheckedContinuation<Void, Never>?

    init(capacity: Int) { self.capacity = capacity }

    // MARK: poll-thread side

    /// Appends an event, blocking while the buffer is full. Returns false once closed.
    @discardableResult
    func push(_ event: ConsumerEvent) -> Bool {
        condition.lock()
        while events.count >= capacity && !closed { condition.wait() }
        guard !closed else {
            condition.unlock()
            return false
        }
        events.append(event)
        let waiter = takeWaiter()
        condition.unlock()
        waiter?.resume()
        return true
    }

    /// Appends a revocation and blocks until the application acknowledged it, the buffer was
    /// closed, or the deadline passed (a stuck application must not stall the group forever).
    func pushRevocationAndWait(_ partitions: [TopicPartition], timeout: TimeInterval) {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return
        }
        let revoked = Set(partitions)
        events.removeAll { event in
            if case .record(let record) = event { return revoked.contains(record.topicPartition) }
            return false
        }
        events.append(.revoked(partitions))
        revocation = .queued
        let waiter = takeWaiter()
        condition.unlock()
        waiter?.resume()

        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        while revocation != .acknowledged && !closed {
            if !condition.wait(until: deadline) { break }
        }
        revocation = .none
        condition.unlock()
    }

    /// Stops the poll thread from waiting, and lets `take` report the end.
    func close() {
        condition.lock()
        closed = true
        let waiter = takeWaiter()
        condition.broadcast()
        condition.unlock()
        waiter?.resume()
    }

    /// Whether a revocation is waiting for the application.
    var isRevoking: Bool {
        condition.lock()
        defer { condition.unlock() }
        return revocation != .none
    }

    // MARK: application side

    func take(max: Int) async throws -> [ConsumerEvent] {
        while true {
            try Task.checkCancellation()
            if let batch = takeAvailable(max: max) { return batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    if !park(continuation) { continuation.resume() }
                }
            } onCancel: {
                wakeWaiter()
            }
        }
    }

    /// The next batch, `[]` when closed, or nil when the caller must wait. Asking again after
    /// a revocation acknowledges it.
    private func takeAvailable(max: Int) -> [ConsumerEvent]? {
        condition.lock()
        defer { condition.unlock() }
        if revocation == .delivered {
            revocation = .acknowledged
            condition.broadcast()
        }
        guard !events.isEmpty else { return closed ? [] : nil }
        var batch = [ConsumerEvent]()
        while batch.count < max, let event = events.popFirst() {
            batch.append(event)
            if case .revoked = event {
                revocation = .delivered
                break
            }
        }
        condition.broadcast()
        return batch
    }

    /// Stores the waiter unless there is something to take already. Checked under the lock,
    /// so a cancellation either happened before (and is seen here) or finds the waiter.
    private func park(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if Task.isCancelled || !events.isEmpty || closed || revocation == .delivered { return false }
        waiter = continuation
        return true
    }

    private func wakeWaiter() {
        condition.lock()
        let waiter = takeWaiter()
        condition.unlock()
        waiter?.resume()
    }

    private func takeWaiter() -> CheckedContinuation<Void, Never>? {
        defer { waiter = nil }
        return waiter
    }
}
