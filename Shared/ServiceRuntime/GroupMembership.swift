import Logging
import MessageBus
import ServiceLifecycle
import Synchronization

/// A processing loop's membership of its consumer group: the one place a consumer is made and
/// closed. In a service it is a `Service` of its own, listed before the loop: it joins when the
/// group starts (after `checks`, which refuse to start a service that must not join), lends the
/// subscription to the loop, and leaves when the group shuts down, which the group does only
/// after the loop has ended (it stops services in reverse order). Run on its own (tests, the
/// benchmarks), `withSubscription` joins, runs the loop's body and leaves, however it ended.
public final class GroupMembership: Service, Sendable {
    let bus: any MessageBus
    let group: String
    let topics: [String]
    let instanceID: String?
    let joined: ReadinessFlag
    let logger: Logger
    let checks: @Sendable () async throws -> Void
    /// Whether a `ServiceGroup` runs it (`run`), or the loop joins and leaves itself.
    let hosted: Bool
    private let state = Mutex(State.waiting([]))

    private enum State {
        case waiting([CheckedContinuation<any GroupSubscription, any Error>])
        case joined(any GroupSubscription)
        case ended(any Error)
    }

    public init(
        bus: any MessageBus, group: String, topics: [String], instanceID: String?, joined: ReadinessFlag = ReadinessFlag(),
        logger: Logger, hosted: Bool = false, checks: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.bus = bus
        self.group = group
        self.topics = topics
        self.instanceID = instanceID
        self.joined = joined
        self.logger = logger
        self.hosted = hosted
        self.checks = checks
    }

    /// As a `Service`: joins, lends the subscription until the group shuts down, then leaves.
    public func run() async throws {
        let subscription: any GroupSubscription
        do {
            subscription = try await join()
        } catch {
            end(error)
            throw error
        }
        let waiting = state.withLock { state -> [CheckedContinuation<any GroupSubscription, any Error>] in
            guard case .waiting(let waiting) = state else { return [] }
            state = .joined(subscription)
            return waiting
        }
        for waiter in waiting { waiter.resume(returning: subscription) }
        // Returns once the group shuts down (the loop has ended by then), or throws when it is cancelled.
        try? await gracefulShutdown()
        end(BusError.closed)
        try await leave(subscription)
    }

    /// Runs the loop's `body` with the group's subscription. Hosted, it waits for the membership
    /// to join; on its own, it joins, and leaves once `body` has ended, however it ended.
    func withSubscription(_ body: (any GroupSubscription) async throws -> Void) async throws {
        let subscription = hosted ? try await lent() : try await join()
        let outcome: Result<Void, any Error>
        do {
            try await body(subscription)
            outcome = .success(())
        } catch is CancellationError {
            // Shutting down while waiting for records: nothing is in flight.
            outcome = .success(())
        } catch {
            logger.error("processing stopped", metadata: ["error": "\(error)"])
            outcome = .failure(error)
        }
        // Hosted, the membership leaves once the group shuts down, after this loop has ended.
        if !hosted {
            do {
                try await leave(subscription)
            } catch {
                if case .success = outcome { throw error }
            }
        }
        try outcome.get()
    }

    private func join() async throws -> any GroupSubscription {
        try await checks()
        let subscription = try await bus.subscribe(group: group, topics: topics, instanceID: instanceID)
        logger.info("consuming", metadata: ["group": "\(group)", "topics": "\(topics)"])
        return subscription
    }

    private func leave(_ subscription: any GroupSubscription) async throws {
        joined.set(false)
        try await subscription.close()
        logger.info("consumer closed", metadata: ["group": "\(group)"])
    }

    /// The subscription once the hosted membership has joined.
    private func lent() async throws -> any GroupSubscription {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLock { state -> Result<any GroupSubscription, any Error>? in
                switch state {
                case .waiting(let waiting):
                    state = .waiting(waiting + [continuation])
                    return nil
                case .joined(let subscription): return .success(subscription)
                case .ended(let error): return .failure(error)
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    private func end(_ error: any Error) {
        let waiting = state.withLock { state -> [CheckedContinuation<any GroupSubscription, any Error>] in
            defer { state = .ended(error) }
            guard case .waiting(let waiting) = state else { return [] }
            return waiting
        }
        for waiter in waiting { waiter.resume(throwing: error) }
    }
}
