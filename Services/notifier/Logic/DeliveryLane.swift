import Foundation
import HelpdeskModel
import ServiceRuntime
import Synchronization

/// When a failed delivery is tried again: exponential back-off with jitter, or the receiver's
/// `Retry-After` (capped); and when to give up.
public struct RetryPolicy: Sendable, Equatable {
    public var firstDelay: Duration
    public var maxDelay: Duration
    /// Attempts before a delivery that keeps failing transiently goes to `notifications.failed`.
    public var maxAttempts: Int
    /// The longest `Retry-After` honoured.
    public var maxRetryAfter: Duration

    public init(firstDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300), maxAttempts: Int = 10,
                maxRetryAfter: Duration = .seconds(3600)) {
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait after `attempt` failed: the receiver's `Retry-After` if it gave one, else
    /// `firstDelay · 2^(attempt-1)` capped at `maxDelay`, jittered into its upper half
    /// (`jitter` in 0...1), so that retries from many instances spread out.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?, jitter: Double) -> Duration {
        if let retryAfter { return min(retryAfter, maxRetryAfter) }
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(firstDelay * (1 << exponent), maxDelay)
        return base * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }
}

/// A circuit breaker for one endpoint: after `threshold` consecutive failures it opens and
/// attempts wait; after the cool-down one attempt probes; success closes it, failure opens it
/// again with the cool-down doubled (up to `maxCoolDown`). Pure: the lane asks and reports.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case closed
        case open(until: Date)
        /// One probe is out.
        case probing
    }
    public let threshold: Int
    public let coolDown: Duration
    public let maxCoolDown: Duration
    public private(set) var state = State.closed
    public private(set) var consecutiveFailures = 0
    private var currentCoolDown: Duration

    public init(threshold: Int = 5, coolDown: Duration = .seconds(5), maxCoolDown: Duration = .seconds(300)) {
        self.threshold = max(1, threshold)
        self.coolDown = coolDown
        self.maxCoolDown = maxCoolDown
        currentCoolDown = coolDown
    }

    /// Whether an attempt may go now; if not, until when to wait (nil: a probe is out, ask again soon).
    public mutating func mayAttempt(at now: Date) -> (allowed: Bool, waitUntil: Date?) {
        switch state {
        case .closed: return (true, nil)
        case .probing: return (false, nil)
        case .open(let until):
            guard now >= until else { return (false, until) }
            state = .probing
            return (true, nil)
        }
    }

    public mutating func succeeded() {
        state = .closed
        consecutiveFailures = 0
        currentCoolDown = coolDown
    }

    public mutating func failed(at now: Date) {
        consecutiveFailures += 1
        switch state {
        case .probing:
            currentCoolDown = min(currentCoolDown * 2, maxCoolDown)
            state = .open(until: now + currentCoolDown.timeInterval)
        case .closed where consecutiveFailures >= threshold:
            state = .open(until: now + currentCoolDown.timeInterval)
        case .closed, .open:
            break
        }
    }

    public var isOpen: Bool { if case .closed = state { false } else { true } }
}

/// One endpoint's lane (the SMTP relay, or one webhook): at most `concurrency` attempts at
/// once, and a circuit that stops attempts to a dead endpoint. A slow or dead endpoint fills
/// only its own lane; the others go on.
public final class DeliveryLane: Sendable {
    public let name: String
    let concurrency: Int
    let clock: any WallClock
    private struct State {
        var running = 0
        var waiting: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
        var circuit: CircuitBreaker
    }
    private let state: Mutex<State>
    private let metrics: LaneMetrics

    public init(name: String, concurrency: Int, circuit: CircuitBreaker, clock: any WallClock) {
        self.name = name
        self.concurrency = max(1, concurrency)
        self.clock = clock
        state = Mutex(State(circuit: circuit))
        metrics = LaneMetrics(lane: name)
    }

    /// Runs one attempt when the circuit and a free slot allow, and reports its outcome to the circuit.
    public func attempt(_ body: () async -> DeliveryAttempt) async throws -> DeliveryAttempt {
        while true {
            let (allowed, until) = state.withLock { $0.circuit.mayAttempt(at: clock.now()) }
            if allowed { break }
            if let until { try await clock.sleep(until: until) } else { try await Task.sleep(for: .milliseconds(20)) }
        }
        try await acquire()
        defer { release() }
        let outcome = await body()
        let now = clock.now()
        state.withLock { state in
            switch outcome {
            case .delivered, .permanent: state.circuit.succeeded()  // the endpoint answered
            case .transient: state.circuit.failed(at: now)
            }
            metrics.circuitOpen.record(state.circuit.isOpen ? 1 : 0)
        }
        return outcome
    }

    private func acquire() async throws {
        let id = state.withLock { state -> Int? in
            if state.running < concurrency {
                state.running += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiting.append((id, continuation))
                    metrics.queued.record(state.waiting.count)
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                defer { metrics.queued.record(state.waiting.count) }
                return state.waiting.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            // The slot passes to the first waiter, or is freed.
            if state.waiting.isEmpty {
                state.running -= 1
                return nil
            }
            defer { metrics.queued.record(state.waiting.count) }
            return state.waiting.removeFirst().continuation
        }
        next?.resume()
    }
}
