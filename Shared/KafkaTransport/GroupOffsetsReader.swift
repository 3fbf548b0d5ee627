import CRdKafka
import Foundation
import Logging
import MessageBus

/// Reads another consumer group's committed offsets: a consumer client configured with that
/// group's id that never subscribes, so it never joins the group or takes its partitions, and
/// asks the group's coordinator with `rd_kafka_committed` (an OffsetFetch).
///
/// Not the admin API's `rd_kafka_ListConsumerGroupOffsets`: in librdkafka 2.0.2 (and later, see
/// librdkafka issues 3663 and 4605) an admin request whose coordinator goes away aborts the
/// process on an assertion, and the reader is asked exactly while brokers come and go.
final class GroupOffsetsReader: @unchecked Sendable {
    private let handle: RdKafkaHandle
    let group: String

    init(group: String, configuration: KafkaConfiguration, logger: Logger) throws {
        self.group = group
        let settings = configuration.withoutGroupProperties.withDefaults(KafkaConsumer.defaults).setting("group.id", group)
        handle = try RdKafkaHandle(kind: .consumer, configuration: settings,
                                   callbacks: ClientCallbacks(logger: logger, health: ClientHealth()))
    }

    /// Blocks for up to the timeout; call from a thread that may block.
    func committed(_ partitions: [TopicPartition], timeoutMilliseconds: Int32) throws -> [TopicPartition: Int64] {
        let list = TopicPartitionList(partitions, offset: Int64(RD_KAFKA_OFFSET_INVALID))
        defer { list.destroy() }
        let error = rd_kafka_committed(handle.pointer, list.pointer, timeoutMilliseconds)
        // Serves the error callbacks queued meanwhile (the client is never polled otherwise).
        rd_kafka_poll(handle.pointer, 0)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw BusError.unavailable("committed offsets of group \(group): \(KafkaError(error))")
        }
        if let failed = list.firstError { throw BusError.unavailable("committed offsets of group \(group): \(failed)") }
        return list.offsets.filter { $0.value >= 0 }
    }

    /// Call once, from a thread that may block.
    func close() {
        rd_kafka_consumer_close(handle.pointer)
        handle.destroy()
    }
}
