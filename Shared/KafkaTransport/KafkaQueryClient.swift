import CRdKafka
import Foundation
import Logging
import MessageBus

/// A consumer client that only asks questions (end offsets, a group's commits, a topic's
/// partition count) and never subscribes: it never joins its group or takes partitions, and its
/// broker connections carry no fetches.
///
/// That is why a consumer's checks do not go through the consumer's own client. A broker
/// answers the requests of one connection in order, and holds a fetch with nothing to return
/// for up to `fetch.wait.max.ms`: a ListOffsets sent behind it waits that long (10 ms per
/// check in the sla-timer benchmark, up to 100 ms with the services' settings).
///
/// A group's commits are asked with `rd_kafka_committed` (an OffsetFetch to the group's
/// coordinator), not with the admin API's `rd_kafka_ListConsumerGroupOffsets`: in librdkafka
/// 2.0.2 (and later, librdkafka issues 3663 and 4605) an admin request whose coordinator goes
/// away aborts the process on an assertion, and these questions are asked exactly while
/// brokers come and go.
final class KafkaQueryClient: @unchecked Sendable {
    private let handle: RdKafkaHandle
    let group: String

    /// A client of `group`: `committed` answers for that group.
    init(group: String, configuration: KafkaConfiguration, logger: Logger) throws {
        self.group = group
        let settings = configuration.withoutGroupProperties.withDefaults(KafkaConsumer.defaults).setting("group.id", group)
        handle = try RdKafkaHandle(kind: .consumer, configuration: settings,
                                   callbacks: ClientCallbacks(logger: logger, health: ClientHealth()))
    }

    /// The group's commits. Blocks for up to the timeout; call from a thread that may block.
    func committed(_ partitions: [TopicPartition], timeoutMilliseconds: Int32) throws -> [TopicPartition: Int64] {
        let list = TopicPartitionList(partitions, offset: Int64(RD_KAFKA_OFFSET_INVALID))
        defer { list.destroy() }
        let error = rd_kafka_committed(handle.pointer, list.pointer, timeoutMilliseconds)
        servePendingCallbacks()
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw BusError.unavailable("committed offsets of group \(group): \(KafkaError(error))")
        }
        if let failed = list.firstError { throw BusError.unavailable("committed offsets of group \(group): \(failed)") }
        return list.offsets.filter { $0.value >= 0 }
    }

    /// One ListOffsets request per partition leader (the "latest" timestamp asks for the end
    /// offset). Blocks for up to the timeout; call from a thread that may block.
    func endOffsets(_ partitions: [TopicPartition], timeoutMilliseconds: Int32) throws -> [TopicPartition: Int64] {
        let list = TopicPartitionList(partitions, offset: Int64(RD_KAFKA_OFFSET_END))
        defer { list.destroy() }
        let error = rd_kafka_offsets_for_times(handle.pointer, list.pointer, timeoutMilliseconds)
        servePendingCallbacks()
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw BusError.unavailable("end offsets: \(KafkaError(error))") }
        if let failed = list.firstError { throw BusError.unavailable("end offsets: \(failed)") }
        return list.offsets
    }

    /// The topic's partition count, asked of the cluster now. Blocks for up to the timeout;
    /// call from a thread that may block.
    func partitionCount(of topic: String, timeoutMilliseconds: Int32) throws -> Int {
        defer { servePendingCallbacks() }
        return try KafkaMetadata.partitionCount(of: topic, on: handle, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The client is never polled otherwise: serve the error callbacks queued meanwhile.
    private func servePendingCallbacks() {
        rd_kafka_poll(handle.pointer, 0)
    }

    /// Call once, from a thread that may block.
    func close() {
        rd_kafka_consumer_close(handle.pointer)
        handle.destroy()
    }
}
