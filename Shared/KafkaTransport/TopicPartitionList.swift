import CRdKafka
import MessageBus

/// An owned `rd_kafka_topic_partition_list_t`.
struct TopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(_ offsets: [TopicPartition: Int64]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(offsets.count))
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            rd_kafka_topic_partition_list_add(pointer, partition.topic, partition.partition).pointee.offset = offset
        }
    }

    /// The same offset for every partition: a placeholder for librdkafka to fill in, or a query.
    init(_ partitions: [TopicPartition], offset: Int64) {
        self.init(Dictionary(uniqueKeysWithValues: partitions.map { ($0, offset) }))
    }

    func destroy() { rd_kafka_topic_partition_list_destroy(pointer) }

    var offsets: [TopicPartition: Int64] {
        var result = [TopicPartition: Int64]()
        for element in Self.elements(of: pointer) {
            result[TopicPartition(String(cString: element.topic), element.partition)] = element.offset
        }
        return result
    }

    /// The first per-partition error, described.
    var firstError: String? {
        for element in Self.elements(of: pointer) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return "\(String(cString: element.topic))[\(element.partition)]: \(KafkaError(element.err))"
        }
        return nil
    }

    static func topicPartitions(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        elements(of: list).map { TopicPartition(String(cString: $0.topic), $0.partition) }.sorted()
    }

    private static func elements(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }
}
