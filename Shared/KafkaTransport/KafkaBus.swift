import CRdKafka
import Foundation
import Logging
import MessageBus

/// The Kafka backend of `MessageBus`.
public struct KafkaBus: MessageBus {
    public let configuration: KafkaConfiguration
    public let logger: Logger

    public init(configuration: KafkaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func makePublisher() throws -> any RecordPublisher {
        try KafkaProducer(configuration: configuration, logger: logger)
    }

    public func makeQueries() throws -> any BrokerQueries {
        KafkaBrokerQueries(configuration: configuration, logger: logger)
    }

    public func tail(_ topic: String) async throws -> any TopicTail {
        try await KafkaTopicTail(topic: topic, configuration: configuration, logger: logger)
    }

    public func subscribe(group: String, topics: [String], instanceID: String?) async throws -> any GroupSubscription {
        try KafkaConsumer(configuration: configuration, group: group, topics: topics, instanceID: instanceID, logger: logger)
    }

    public func partitionCount(of topic: String) async throws -> Int {
        try await KafkaMetadata.partitionCount(of: topic, configuration: configuration, logger: logger)
    }

    public func readPartition(
        _ partition: TopicPartition, from offset: Int64, _ body: ([ConsumerRecord]) throws -> Void
    ) async throws -> Int64 {
        try await KafkaPartitionReader.read(partition, from: offset, configuration: configuration, logger: logger, body)
    }
}

enum KafkaMetadata {
    private static let queue = DispatchQueue(label: "kafka-metadata")

    /// Asks the cluster how many partitions a topic has, with a short-lived client.
    static func partitionCount(of topic: String, configuration: KafkaConfiguration, logger: Logger,
                               timeoutMilliseconds: Int32 = 10_000) async throws -> Int {
        let handle = try RdKafkaHandle(
            kind: .producer, configuration: configuration.forProducer.setting("allow.auto.create.topics", "false"),
            callbacks: ClientCallbacks(logger: logger, health: ClientHealth()))
        return try await offloaded(queue) {
            defer { handle.destroy() }
            return try partitionCount(of: topic, on: handle, timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// A Metadata request for the topic on the client's connections. Blocks for up to the
    /// timeout; call from a thread that may block.
    static func partitionCount(of topic: String, on handle: RdKafkaHandle, timeoutMilliseconds: Int32) throws -> Int {
        let topicHandle = rd_kafka_topic_new(handle.pointer, topic, nil)
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(handle.pointer, 0, topicHandle, &metadata, timeoutMilliseconds)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw BusError.unavailable("metadata for \(topic): \(KafkaError(error))")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard metadata.pointee.topic_cnt > 0 else { throw BusError.unknownTopic(topic) }
        let entry = metadata.pointee.topics[0]
        if entry.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let kafkaError = KafkaError(entry.err)
            throw kafkaError.isUnknownTopic ? BusError.unknownTopic(topic) : BusError.unavailable(kafkaError.description)
        }
        return Int(entry.partition_cnt)
    }
}
