import Foundation
import KafkaTransport
import Logging
import MessageBus
import Testing

/// What a backend can be asked to do in the contract suite (watermill-style declared features).
struct BackendFeatures: OptionSet, Sendable {
    let rawValue: Int
    /// Can take a broker down and up again mid-test.
    static let brokerOutage = BackendFeatures(rawValue: 1 << 0)
    /// Can add partitions to a topic (Kafka's CreatePartitions; librdkafka 2.0.2's mock cluster has no such request).
    static let partitionsAdded = BackendFeatures(rawValue: 1 << 1)
}

/// One backend under test: a fresh, isolated broker per test.
protocol ContractBackend: Sendable, CustomTestStringConvertible {
    var features: BackendFeatures { get }
    func start(autoCreateTopics: Bool) async throws -> RunningBackend
}

struct RunningBackend: Sendable {
    let bus: any MessageBus
    let createTopic: @Sendable (String, Int) throws -> Void
    /// Makes publishing to the topic fail as on a broker that does not create topics.
    let refuseTopic: @Sendable (String) -> Void
    let brokerDown: @Sendable () -> Void
    let brokerUp: @Sendable () -> Void
    /// Grows a topic to this many partitions; only with `.partitionsAdded`.
    var addPartitions: @Sendable (String, Int) -> Void = { _, _ in Issue.record("the backend cannot add partitions") }
    let stop: @Sendable () -> Void
}

struct InMemoryBackend: ContractBackend {
    var features: BackendFeatures { [.brokerOutage, .partitionsAdded] }
    var testDescription: String { "in-memory" }

    func start(autoCreateTopics: Bool) async throws -> RunningBackend {
        let broker = InMemoryBroker(defaultPartitions: 6, autoCreateTopics: autoCreateTopics)
        return RunningBackend(
            bus: broker, createTopic: { broker.createTopic($0, partitions: $1) }, refuseTopic: { _ in },
            brokerDown: { broker.setReachable(false) }, brokerUp: { broker.setReachable(true) },
            addPartitions: { broker.addPartitions(to: $0, total: $1) }, stop: {})
    }
}

struct KafkaMockBackend: ContractBackend {
    var features: BackendFeatures { [.brokerOutage] }
    var testDescription: String { "kafka (librdkafka mock cluster)" }

    func start(autoCreateTopics: Bool) async throws -> RunningBackend {
        var logger = Logger(label: "contract")
        logger.logLevel = .critical
        let cluster = try MockKafkaCluster(brokers: 1, logger: logger)
        let configuration = KafkaConfiguration(
            bootstrapServers: cluster.bootstrapServers,
            [
                // Tests see rebalances and outages quickly. The metadata refresh stays at its
                // default: at 1 s, a refresh landing mid-join made the member join again, and each
                // join on the mock waits a rebalance round (docs/operations.md, development broker).
                "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
                "reconnect.backoff.max.ms": "500", "message.timeout.ms": "60000", "topic.metadata.propagation.max.ms": "2000",
            ])
        return RunningBackend(
            bus: KafkaBus(configuration: configuration, logger: logger),
            createTopic: { try cluster.createTopic($0, partitions: $1) },
            refuseTopic: { cluster.refuseTopic($0) },
            brokerDown: { cluster.setBrokerDown(1) }, brokerUp: { cluster.setBrokerUp(1) },
            stop: { cluster.shutdown() })
    }
}

let allBackends: [any ContractBackend] = [InMemoryBackend(), KafkaMockBackend()]

struct DeadlineExceeded: Error, CustomStringConvertible {
    let what: String
    var description: String { "deadline exceeded: \(what)" }
}

/// Runs `body`, failing if it has not finished within `seconds` (a guard against hangs, not a timing assertion).
func within<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw DeadlineExceeded(what: what)
        }
        group.cancelAll()
        return value
    }
}

/// Everything one member saw, in order.
actor EventLog {
    private(set) var events: [ConsumerEvent] = []
    func append(_ batch: [ConsumerEvent]) { events += batch }
    var records: [ConsumerRecord] {
        events.compactMap { if case .record(let record) = $0 { record } else { nil } }
    }
    var assignedNow: Set<TopicPartition> { Self.currentAssignment(events) }

    static func currentAssignment(_ events: [ConsumerEvent]) -> Set<TopicPartition> {
        var owned = Set<TopicPartition>()
        for event in events {
            switch event {
            case .assigned(let partitions): owned.formUnion(partitions)
            case .revoked(let partitions): owned.subtract(partitions)
            case .record: break
            }
        }
        return owned
    }

    /// The governing rule: a record only arrives for a partition assigned and not since revoked.
    func recordsFollowAssignments() -> Bool {
        var owned = Set<TopicPartition>()
        for event in events {
            switch event {
            case .assigned(let partitions): owned.formUnion(partitions)
            case .revoked(let partitions): owned.subtract(partitions)
            case .record(let record): if !owned.contains(record.topicPartition) { return false }
            }
        }
        return true
    }
}

/// Polls a member in the background into its log until stopped.
final class Member: Sendable {
    let subscription: any GroupSubscription
    let log = EventLog()
    private let task: Task<Void, Never>

    init(_ subscription: any GroupSubscription) {
        self.subscription = subscription
        let log = self.log
        task = Task {
            while !Task.isCancelled {
                guard let batch = try? await subscription.poll(max: 100), !batch.isEmpty else { return }
                await log.append(batch)
            }
        }
    }

    /// Stops taking events (the member stays in the group until closed).
    func stopPolling() async {
        task.cancel()
        await task.value
    }

    func stop() async throws {
        await stopPolling()
        try await subscription.close()
    }
}

/// Waits (with a deadline) until the condition over the members' logs holds.
func eventually(_ what: String, timeout seconds: Double = 30, _ condition: @escaping @Sendable () async -> Bool) async throws {
    try await within(seconds, what) {
        while await !condition() { try await Task.sleep(for: .milliseconds(20)) }
    }
}

/// Takes the broker down, expects `ask` to fail with a `BusError` meanwhile, brings it back up,
/// and waits until `ask` answers `answer` again.
func expectUnanswered<T: Equatable & Sendable>(
    whileDown broker: RunningBackend, thenAgain answer: T, _ ask: @escaping @Sendable () async throws -> T
) async throws {
    broker.brokerDown()
    await #expect(throws: BusError.self) { try await ask() }
    broker.brokerUp()
    try await eventually("the broker answers again", timeout: 30) { (try? await ask()) == answer }
}

func testRecords(topic: String, keys: Int, perKey: Int, valueSize: Int = 16) -> [OutgoingRecord] {
    var records = [OutgoingRecord]()
    for sequence in 0..<perKey {
        for key in 0..<keys {
            var value = Array("k\(key)-\(sequence)".utf8)
            if value.count < valueSize { value += Array(repeating: 0x2E, count: valueSize - value.count) }
            records.append(OutgoingRecord(topic: topic, key: "key-\(key)", value: value))
        }
    }
    return records
}

func uniqueTopic(_ name: String) -> String { "\(name)-\(UUID().uuidString.prefix(8).lowercased())" }
