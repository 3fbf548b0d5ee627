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
    /// How long after it starts a delivery is given up, waits for a slot or an open circuit included.
    public var giveUpAfter: Duration

    public init(firstDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300), maxAttempts: Int = 10,
                maxRetryAfter: Duration = .seconds(3600), giveUpAfter: Duration = .seconds(900)) {
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.maxRetryAfter = maxRetryAfter
        self.giveUpAfter = giveUpAfter
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

    /// The attempt was cancelled before its endpoint answered: it tells nothing, and a probe
    /// that never finished must not leave the circuit waiting for it.
    public mutating func abandoned() {
        if case .probing = state { state = .open(until: .distantPast) }
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

/// One endpoint's lane (the SMTP relay, or one webhook). It holds at most `capacity`
/// deliveries (each from admission to its outcome, retries included) and runs at most
/// `concurrency` attempts at once; its circuit stops attempts to a dead endpoint. While the
/// circuit is open a full lane turns new deliveries away at once, so a dead endpoint holds at
/// most `capacity` notifications in hand and the others keep the rest of the window.
public final class DeliveryLane: Sendable {
    public let name: String
    public let capacity: Int
    let clock: any WallClock
    private let circuit: Mutex<CircuitBreaker>
    private let deliveries: AsyncSlots
    private let attempts: AsyncSlots
    private let metrics: LaneMetrics

    public init(name: String, concurrency: Int, capacity: Int = 250, circuit: CircuitBreaker, clock: any WallClock) {
        self.name = name
        self.capacity = max(1, capacity)
        self.clock = clock
        self.circuit = Mutex(circuit)
        deliveries = AsyncSlots(limit: max(1, capacity))
        attempts = AsyncSlots(limit: max(1, concurrency))
        metrics = LaneMetrics(lane: name)
    }

    public var circuitIsOpen: Bool { circuit.withLock { $0.isOpen } }

    /// Takes a delivery into the lane, waiting for room while the endpoint is healthy. False:
    /// the lane is full and its circuit open; the delivery fails now rather than wait behind a
    /// dead endpoint. An admitted delivery calls `leave` when it has its outcome.
    public func admit() async throws -> Bool {
        defer { metrics.deliveries.record(deliveries.used) }
        return try await deliveries.acquire()
    }

    public func leave() {
        deliveries.release()
        metrics.deliveries.record(deliveries.used)
    }

    /// Runs one attempt once a slot is free and the circuit allows, and reports its outcome to
    /// the circuit. Nil: the circuit would not allow one before `deadline`. A cancelled attempt
    /// is not held against the endpoint; a cancelled probe lets the next attempt probe.
    public func attempt(until deadline: Date, _ body: () async -> DeliveryAttempt) async throws -> DeliveryAttempt? {
        var probe = false
        while true {
            metrics.queued.record(attempts.waiting + 1)
            _ = try await attempts.acquire()
            metrics.queued.record(attempts.waiting)
            if Task.isCancelled {
                attempts.release()
                throw CancellationError()
            }
            // Asked with the slot in hand: a probe granted here is certain to run.
            let (allowed, until) = circuit.withLock { circuit in
                let wasOpen = circuit.isOpen
                let answer = circuit.mayAttempt(at: clock.now())
                probe = answer.allowed && wasOpen
                return answer
            }
            if allowed { break }
            attempts.release()
            let wake = until ?? clock.now().addingTimeInterval(0.02)
            guard wake <= deadline else { return nil }
            if let until { try await clock.sleep(until: until) } else { try await Task.sleep(for: .milliseconds(20)) }
        }
        defer { attempts.release() }
        let outcome = await body()
        let now = clock.now()
        let cancelled = Task.isCancelled
        let open = circuit.withLock { circuit -> Bool in
            switch outcome {
            case _ where cancelled: if probe { circuit.abandoned() }
            case .delivered, .permanent: circuit.succeeded()  // the endpoint answered
            case .transient: circuit.failed(at: now)
            }
            return circuit.isOpen
        }
        metrics.circuitOpen.record(open ? 1 : 0)
        // A dead endpoint: deliveries waiting for room in a full lane fail now, and so do new ones.
        deliveries.turnAway(open)
        if cancelled { throw CancellationError() }
        return outcome
    }
}

/// A counting semaphore with first-come waiters: `acquire` takes a free slot or waits for one
/// (a cancelled wait throws). While turning away, a caller that would wait gets false at once,
/// and so does every waiter when turning away starts; `release` hands a slot on.
final class AsyncSlots: Sendable {
    private struct State {
        var used = 0
        var waiting: [(id: Int, continuation: CheckedContinuation<Bool, any Error>)] = []
        var nextID = 0
        var turningAway = false
    }
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = limit }

    var used: Int { state.withLock { $0.used } }
    var waiting: Int { state.withLock { $0.waiting.count } }

    func acquire() async throws -> Bool {
        let id = state.withLock { state -> Int? in
            if state.used < limit {
                state.used += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                // Decided again under the lock that `release` and `turnAway` take: nothing freed
                // or turned away since the first look is missed.
                let now = state.withLock { state -> Result<Bool, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.used < limit {
                        state.used += 1
                        return .success(true)
                    }
                    if state.turningAway { return .success(false) }
                    state.waiting.append((id, continuation))
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Frees a slot, or passes it to the first waiter.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, any Error>? in
            if state.waiting.isEmpty {
                state.used -= 1
                return nil
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume(returning: true)
    }

    /// Starts (every waiter gets false) or stops turning away those who would wait.
    func turnAway(_ on: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, any Error>] in
            state.turningAway = on
            guard on else { return [] }
            defer { state.waiting.removeAll() }
            return state.waiting.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }
}
