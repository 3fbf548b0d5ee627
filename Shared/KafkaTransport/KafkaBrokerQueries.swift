import Foundation
import Logging
import MessageBus
import Synchronization

/// The Kafka `BrokerQueries`: long-lived `KafkaQueryClient`s, one per group whose commits are
/// asked for (`rd_kafka_committed` answers for the client's own `group.id`), made on first use
/// and kept until `close`. Questions are asked one at a time on one thread, bounded by a timeout,
/// so that a loop asking during an outage soon hears that it cannot know.
public final class KafkaBrokerQueries: BrokerQueries {
    /// The group of the client that asks end offsets and partition counts; it never joins.
    static let ownGroup = "helpdesk-broker-queries"

    private let configuration: KafkaConfiguration
    private let logger: Logger
    private let timeoutMilliseconds: Int32
    private let clients = Mutex<[String: KafkaQueryClient]?>([:])
    private let queue = DispatchQueue(label: "kafka-broker-queries")

    public init(configuration: KafkaConfiguration, logger: Logger, timeoutMilliseconds: Int32 = 2000) {
        self.configuration = configuration
        self.logger = logger
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    public func committed(_ partitions: [TopicPartition], ofGroup group: String) async throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let timeout = timeoutMilliseconds
        return try await ask(as: group) { try $0.committed(partitions, timeoutMilliseconds: timeout) }
    }

    public func endOffsets(of partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let timeout = timeoutMilliseconds
        return try await ask(as: Self.ownGroup) { try $0.endOffsets(partitions, timeoutMilliseconds: timeout) }
    }

    public func partitionCount(of topic: String) async throws -> Int {
        let timeout = timeoutMilliseconds
        return try await ask(as: Self.ownGroup) { try $0.partitionCount(of: topic, timeoutMilliseconds: timeout) }
    }

    private func ask<T: Sendable>(as group: String, _ body: @escaping @Sendable (KafkaQueryClient) throws -> T) async throws -> T {
        try await offloaded(queue) { [self] in
            let client = try clients.withLock { clients in
                // Checked under the lock that `close` takes the clients under: a client made
                // after that would never be closed.
                guard clients != nil else { throw BusError.closed }
                if let client = clients![group] { return client }
                let client = try KafkaQueryClient(group: group, configuration: configuration, logger: logger)
                clients![group] = client
                return client
            }
            return try body(client)
        }
    }

    public func close() async {
        let closing = clients.withLock { clients in
            defer { clients = nil }
            return Array((clients ?? [:]).values)
        }
        if !closing.isEmpty { _ = try? await offloaded(queue) { for client in closing { client.close() } } }
    }
}
