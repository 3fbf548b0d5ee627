import CRdKafka
import Foundation
import Logging
import MessageBus

/// Reads one partition from an offset to its current end, outside any consumer group (the
/// partition is assigned, never subscribed, and nothing is committed). Stateful services
/// restore their changelogs with it; the CLI answers status questions with it.
enum KafkaPartitionReader {
    private static let batchSize = 2048

    static func read(
        _ partition: TopicPartition, from offset: Int64, configuration: KafkaConfiguration, logger: Logger,
        _ body: ([ConsumerRecord]) throws -> Void
    ) async throws -> Int64 {
        let handle = try RdKafkaHandle.groupLessReader(configuration: configuration, group: "helpdesk-partition-reader", logger: logger)
        let queue = DispatchQueue(label: "kafka-partition-reader")
        defer {
            queue.async {
                _ = rd_kafka_consumer_close(handle.pointer)
                handle.destroy()
            }
        }
        let end = try await offloaded(queue) { () throws -> Int64 in
            var low: Int64 = 0
            var high: Int64 = 0
            let error = rd_kafka_query_watermark_offsets(
                handle.pointer, partition.topic, partition.partition, &low, &high, 10_000)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                let kafkaError = KafkaError(error)
                throw kafkaError.isUnknownTopic || error == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION
                    ? BusError.unknownTopic("\(partition)") : BusError.unavailable("\(partition): \(kafkaError)")
            }
            guard offset < high else { return high }
            let list = TopicPartitionList([partition: max(offset, low)])
            defer { list.destroy() }
            let assignError = rd_kafka_assign(handle.pointer, list.pointer)
            guard assignError == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw BusError.unavailable("assigning \(partition): \(KafkaError(assignError))")
            }
            return high
        }
        var next = offset
        var reachedEnd = false
        while next < end, !reachedEnd {
            try Task.checkCancellation()
            let (batch, atEnd) = try await offloaded(queue) { [next] () throws -> ([ConsumerRecord], Bool) in
                var records = [ConsumerRecord]()
                records.reserveCapacity(batchSize)
                var position = next
                var silentSince = Date()
                while records.count < batchSize, position < end {
                    guard let message = rd_kafka_consumer_poll(handle.pointer, 100) else {
                        if Date().timeIntervalSince(silentSince) > 30 {
                            throw BusError.unavailable("\(partition) stopped at offset \(position) before \(end)")
                        }
                        continue
                    }
                    defer { rd_kafka_message_destroy(message) }
                    let m = message.pointee
                    // The log ends below the watermark read earlier (records were deleted).
                    if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return (records, true) }
                    guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                        throw BusError.unavailable("reading \(partition): \(KafkaError(m.err))")
                    }
                    silentSince = Date()
                    records.append(ConsumerRecord(copying: message))
                    position = m.offset + 1
                }
                return (records, position >= end)
            }
            if !batch.isEmpty {
                try body(batch)
                next = batch.last!.offset + 1
            }
            reachedEnd = atEnd
        }
        return end
    }
}

extension RdKafkaHandle {
    /// A consumer client that is assigned partitions and never joins a group or commits: it
    /// reports the end of each partition it reaches. librdkafka's assign needs a group id all the same.
    /// `prefetchKilobytes` bounds what librdkafka fetches ahead of the reader (its default, 64 MiB,
    /// when nil).
    static func groupLessReader(
        configuration: KafkaConfiguration, group: String, prefetchKilobytes: Int? = nil, logger: Logger
    ) throws -> RdKafkaHandle {
        var defaults = [
            "enable.auto.commit": "false", "enable.auto.offset.store": "false", "enable.partition.eof": "true",
            "fetch.wait.max.ms": "10",
        ]
        if let prefetchKilobytes { defaults["queued.max.messages.kbytes"] = String(prefetchKilobytes) }
        return try RdKafkaHandle(
            kind: .consumer,
            configuration: configuration.withoutGroupProperties.withDefaults(defaults).setting("group.id", group),
            callbacks: ClientCallbacks(logger: logger, health: ClientHealth()))
    }
}
