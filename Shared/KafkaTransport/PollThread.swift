import Foundation
import Synchronization

/// A dedicated OS thread for librdkafka's blocking calls (poll, flush, close), so they never
/// occupy a thread of Swift's cooperative pool.
final class PollThread: @unchecked Sendable {
    private let thread: Thread
    private let finished = DispatchSemaphore(value: 0)

    /// Runs `body` on a new thread; `body` returns when the client is done.
    init(name: String, body: @escaping @Sendable () -> Void) {
        let finished = self.finished
        thread = Thread {
            body()
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Waits, without blocking the cooperative pool, until the thread's body has returned.
    func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.finished.wait()
                continuation.resume()
            }
        }
    }
}

/// Runs a blocking librdkafka call on a dispatch queue and awaits its result.
func offloaded<T: Sendable>(_ queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        queue.async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// A flag shared between a client and its poll thread.
final class AtomicFlag: Sendable {
    private let storage: Atomic<Bool>
    init(_ value: Bool) { storage = Atomic(value) }
    var value: Bool { storage.load(ordering: .acquiring) }
    func set(_ value: Bool) { storage.store(value, ordering: .releasing) }
    /// Sets the flag and returns what it was.
    func exchange(_ value: Bool) -> Bool { storage.exchange(value, ordering: .acquiringAndReleasing) }
}
