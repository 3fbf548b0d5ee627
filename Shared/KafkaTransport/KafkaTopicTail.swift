import CRdKafka
import Foundation
import Logging
import MessageBus

/// Follows every partition of a topic from its start with one consumer client that is assigned
/// the partitions (it never joins a group, and commits nothing). Read models use it.
final class KafkaTopicTail: TopicTail, @unchecked Sendable {
    private let handle: RdKafkaHandle
    private let topic: String
    private let queue = DispatchQueue(label: "kafka-topic-tail")

    init(topic: String, configuration: KafkaConfiguration, logger: Logger) async throws {
        self.topic = topic
        // A changelog's updates are small and arrive a flush at a time: a short prefetch will do.
        let handle = try RdKafkaHandle.groupLessReader(
            configuration: configuration, group: "helpdesk-topic-tail", prefetchKilobytes: 2_048, logger: logger)
        self.handle = handle
        do {
            try await offloaded(queue) {
                let count = try KafkaMetadata.partitionCount(of: topic, on: handle, timeoutMilliseconds: 10_000)
                let list = TopicPartitionList(Dictionary(uniqueKeysWithValues: (0..<count).map {
                    (TopicPartition(topic, Int32($0)), Int64(RD_KAFKA_OFFSET_BEGINNING))
                }))
                defer { list.destroy() }
                let error = rd_kafka_assign(handle.pointer, list.pointer)
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw BusError.unavailable("assigning \(topic): \(KafkaError(error))")
                }
            }
        } catch {
            await close()
            throw error
        }
    }

    func next(max: Int) async throws -> TailBatch {
        let handle = self.handle
        let topic = self.topic
        return try await offloaded(queue) {
            var batch = TailBatch(records: [], reached: [:])
            let started = DispatchTime.now().uptimeNanoseconds
            while batch.records.count < max, DispatchTime.now().uptimeNanoseconds - started < 100_000_000 {
                guard let message = rd_kafka_consumer_poll(handle.pointer, batch.records.isEmpty ? 100 : 0) else {
                    if batch.records.isEmpty { continue } else { break }
                }
                defer { rd_kafka_message_destroy(message) }
                let m = message.pointee
                let partition = TopicPartition(topic, m.partition)
                if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    batch.reached[partition] = m.offset
                    continue
                }
                guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    if m.err == RD_KAFKA_RESP_ERR__TRANSPORT || m.err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN { continue }
                    throw BusError.unavailable("reading \(partition): \(KafkaError(m.err))")
                }
                batch.records.append(ConsumerRecord(copying: message))
                batch.reached[partition] = m.offset + 1
            }
            return batch
        }
    }

    func close() async {
        let handle = self.handle
        _ = try? await offloaded(queue) {
            _ = rd_kafka_consumer_close(handle.pointer)
            handle.destroy()
        }
    }
}
