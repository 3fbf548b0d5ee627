import Logging
import MessageBus

/// A loop's membership of its consumer group: joined for `body`, left once, however `body` ends.
/// A loop that ends because the service shuts down has committed what it handled; one that
/// fails leaves the rest to the next owner of its partitions.
func asMember(
    of group: String, topics: [String], instanceID: String?, bus: any MessageBus, joined: ReadinessFlag, logger: Logger,
    _ body: (any GroupSubscription) async throws -> Void
) async throws {
    let subscription = try await bus.subscribe(group: group, topics: topics, instanceID: instanceID)
    logger.info("consuming", metadata: ["group": "\(group)", "topics": "\(topics)"])
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
    joined.set(false)
    do {
        try await subscription.close()
        logger.info("consumer closed", metadata: ["group": "\(group)"])
    } catch {
        if case .success = outcome { throw error }
    }
    try outcome.get()
}
