import Foundation
import Logging
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

/// A read model a service can go without (another service's topic, read for a hint) does not
/// stop the service when its topic is missing: it says so and follows the topic once it exists.
@Suite("changelog view")
struct ChangelogViewTests {
    @Test func anOptionalViewWaitsForItsTopicAndKeepsOnlyItsKeys() async throws {
        let broker = InMemoryBroker(defaultPartitions: 2, autoCreateTopics: false)
        let view = ChangelogView(topic: "outlook", bus: broker, queries: try broker.makeQueries(), keys: ["~desk"],
                                 required: false, retryAfter: .milliseconds(50), logger: Logger(label: "test"))
        let following = Task { try await view.run() }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!view.isFollowing, "no topic yet")
        broker.createTopic("outlook", partitions: 2)
        _ = try await broker.makePublisher().publish([
            OutgoingRecord(topic: "outlook", key: "~desk", value: Array("{}".utf8)),
            OutgoingRecord(topic: "outlook", key: "tk_1", value: Array("{}".utf8)),
        ])
        try await eventually("the topic is followed once it exists", within: .seconds(60)) { view.current(forKey: "~desk") != nil }
        #expect(view.current(forKey: "tk_1") == nil, "only the keys asked for are kept")
        following.cancel()
        try await following.value
    }

    @Test func aRequiredViewStopsItsServiceWhenItsTopicIsMissing() async throws {
        let broker = InMemoryBroker(defaultPartitions: 2, autoCreateTopics: false)
        let view = ChangelogView(topic: "state", bus: broker, queries: try broker.makeQueries(), logger: Logger(label: "test"))
        await #expect(throws: BusError.self) { try await view.run() }
    }
}
