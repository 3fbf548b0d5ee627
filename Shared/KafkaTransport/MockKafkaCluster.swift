import CRdKafka
import Foundation
import Logging
import MessageBus

/// librdkafka's built-in mock cluster: real Kafka protocol on loopback, in this process.
/// Other processes connect to `bootstrapServers`. Note: librdkafka 2.0.2's mock keeps only
/// about the last 5 MB of each partition; older records are silently dropped.
public final class MockKafkaCluster: @unchecked Sendable {
    private let handle: RdKafkaHandle
    private let cluster: OpaquePointer
    public let bootstrapServers: String
    public let brokerCount: Int

    public init(brokers: Int = 1, logger: Logger) throws {
        // The mock cluster lives inside a client instance; a producer without brokers serves.
        handle = try RdKafkaHandle(
            kind: .producer, configuration: KafkaConfiguration(["log_level": "3"]),
            callbacks: ClientCallbacks(logger: logger, health: ClientHealth()))
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)) else {
            handle.destroy()
            throw BusError.configuration("could not start a mock cluster with \(brokers) brokers")
        }
        self.cluster = cluster
        self.brokerCount = brokers
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        ListeningSockets.disableNagle(onPorts: Self.ports(of: bootstrapServers))
    }

    private static func ports(of bootstrapServers: String) -> Set<UInt16> {
        Set(bootstrapServers.split(separator: ",").compactMap { $0.split(separator: ":").last.flatMap { UInt16($0) } })
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let error = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(min(replicationFactor, brokerCount)))
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw BusError.configuration("creating \(name): \(KafkaError(error))")
        }
    }

    /// Makes the cluster answer every request about this topic with "unknown topic", as a
    /// broker that does not create topics on demand would.
    public func refuseTopic(_ name: String) {
        rd_kafka_mock_topic_set_error(cluster, name, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    }

    /// Takes a broker down (connections closed, new ones refused) for fault injection.
    public func setBrokerDown(_ id: Int32) {
        _ = rd_kafka_mock_broker_set_down(cluster, id)
    }

    public func setBrokerUp(_ id: Int32) {
        _ = rd_kafka_mock_broker_set_up(cluster, id)
        ListeningSockets.disableNagle(onPorts: Self.ports(of: bootstrapServers))
    }

    public func shutdown() {
        rd_kafka_mock_cluster_destroy(cluster)
        handle.destroy()
    }
}
