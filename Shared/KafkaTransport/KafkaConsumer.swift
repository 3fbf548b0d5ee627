import CRdKafka
import Foundation
import Logging
import MessageBus
import Synchronization

/// A member of a Kafka consumer group with manual commits. A dedicated thread polls
/// librdkafka and serves rebalance callbacks; records and rebalance events reach the
/// application, in order, through `poll(max:)`.
public final class KafkaConsumer: GroupSubscription {
    /// Offsets are committed by the application only after its output was acknowledged.
    public static let defaults: [String: String] = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "session.timeout.ms": "10000",
        "heartbeat.interval.ms": "2000",
        "partition.assignment.strategy": "range",
        "enable.partition.eof": "false",
        "queued.max.messages.kbytes": "16384",
        // Brokers answer a fetch early once data is there, but librdkafka's mock cluster
        // (the development broker) holds it for the full wait: keep the wait short.
        "fetch.wait.max.ms": "100",
    ]

    public let health: ClientHealth
    private let handle: RdKafkaHandle
    private let buffer: ConsumerEventBuffer
    private let running = AtomicFlag(true)
    private let closing = AtomicFlag(false)
    private let pollThread: Mutex<PollThread?> = Mutex(nil)
    private let blockingCalls = DispatchQueue(label: "kafka-consumer-blocking")
    private let logger: Logger

    public init(configuration: KafkaConfiguration, group: String, topics: [String], instanceID: String? = nil,
                logger: Logger, bufferCapacity: Int = 4096) throws {
        var configuration = configuration.withDefaults(Self.defaults).setting("group.id", group)
        if let instanceID { configuration = configuration.setting("group.instance.id", instanceID) }
        let buffer = ConsumerEventBuffer(capacity: bufferCapacity)
        let health = ClientHealth()
        let closing = self.closing
        let revocationTimeout = TimeInterval(Int(configuration.properties["max.poll.interval.ms"] ?? "") ?? 300_000) / 1000
        let callbacks = RebalanceCallbacks(logger: logger, health: health, buffer: buffer, closing: closing,
                                           revocationTimeout: revocationTimeout)
        self.buffer = buffer
        self.health = health
        self.logger = logger
        handle = try RdKafkaHandle(kind: .consumer, configuration: configuration, callbacks: callbacks) { conf in
            rd_kafka_conf_set_rebalance_cb(conf) { rk, error, partitions, opaque in
                guard let rk, let opaque else { return }
                Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                    .rebalance(rk: rk, error: error, partitions: partitions)
            }
        }
        rd_kafka_poll_set_consumer(handle.pointer)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let subscribeError = rd_kafka_subscribe(handle.pointer, list)
        rd_kafka_topic_partition_list_destroy(list)
        if subscribeError != RD_KAFKA_RESP_ERR_NO_ERROR {
            handle.destroy()
            throw BusError.configuration("subscribe: \(KafkaError(subscribeError))")
        }
        let handle = self.handle
        let running = self.running
        pollThread.withLock {
            $0 = PollThread(name: "kafka-consumer-poll") {
                Self.pollLoop(handle: handle, buffer: buffer, running: running, health: health, logger: logger)
            }
        }
    }

    private static func pollLoop(handle: RdKafkaHandle, buffer: ConsumerEventBuffer, running: AtomicFlag,
                                 health: ClientHealth, logger: Logger) {
        while running.value {
            guard let message = rd_kafka_consumer_poll(handle.pointer, 100) else { continue }
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    logger.warning("kafka consumer error", metadata: ["error": "\(KafkaError(m.err))"])
                }
                continue
            }
            health.markReachable()
            buffer.push(.record(ConsumerRecord(copying: message)))
        }
        // Leaving the group runs the final revocation through the rebalance callback, which
        // does not wait for the application while closing.
        let closeError = rd_kafka_consumer_close(handle.pointer)
        if closeError != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("closing the kafka consumer", metadata: ["error": "\(KafkaError(closeError))"])
        }
        handle.destroy()
        buffer.close()
    }

    public func poll(max: Int) async throws -> [ConsumerEvent] {
        try await buffer.take(max: max)
    }

    public func commit(_ offsets: [TopicPartition: Int64]) async throws {
        guard !offsets.isEmpty else { return }
        guard running.value else { throw BusError.closed }
        let handle = self.handle
        try await offloaded(blockingCalls) {
            let list = TopicPartitionList(offsets)
            defer { list.destroy() }
            let error = rd_kafka_commit(handle.pointer, list.pointer, 0)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw BusError.commitFailed(KafkaError(error).description) }
            if let failed = list.firstError { throw BusError.commitFailed(failed) }
        }
    }

    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        guard running.value else { throw BusError.closed }
        let handle = self.handle
        return try await offloaded(blockingCalls) {
            let list = TopicPartitionList(partitions, offset: Int64(RD_KAFKA_OFFSET_INVALID))
            defer { list.destroy() }
            let error = rd_kafka_committed(handle.pointer, list.pointer, 10_000)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw BusError.commitFailed(KafkaError(error).description) }
            return list.offsets.filter { $0.value >= 0 }
        }
    }

    /// Leaves the group and destroys the client. Call after the last commit.
    public func close() async throws {
        closing.set(true)
        guard running.exchange(false) else { return }
        // Unblock a poll thread waiting for buffer space or a revocation acknowledgement.
        buffer.close()
        let thread = pollThread.withLock { $0.take() }
        await thread?.join()
    }
}

/// Serves librdkafka's rebalance callback on the poll thread.
final class RebalanceCallbacks: ClientCallbacks, @unchecked Sendable {
    let buffer: ConsumerEventBuffer
    let closing: AtomicFlag
    let revocationTimeout: TimeInterval

    init(logger: Logger, health: ClientHealth, buffer: ConsumerEventBuffer, closing: AtomicFlag,
         revocationTimeout: TimeInterval) {
        self.buffer = buffer
        self.closing = closing
        self.revocationTimeout = revocationTimeout
        super.init(logger: logger, health: health)
    }

    override func rebalance(rk: OpaquePointer, error: rd_kafka_resp_err_t,
                            partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let changed = partitions.map { TopicPartitionList.topicPartitions(of: $0) } ?? []
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        switch error {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let failure = rd_kafka_incremental_assign(rk, partitions) { report("assigning", KafkaError(consuming: failure)) }
            } else {
                assign(rk, partitions)
            }
            health.markReachable()
            logger.info("partitions assigned", metadata: ["partitions": "\(changed.map(\.description))"])
            buffer.push(.assigned(changed))
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            logger.info("partitions revoked", metadata: ["partitions": "\(changed.map(\.description))"])
            if !closing.value {
                buffer.pushRevocationAndWait(changed, timeout: revocationTimeout)
            }
            if cooperative {
                if let failure = rd_kafka_incremental_unassign(rk, partitions) { report("revoking", KafkaError(consuming: failure)) }
            } else {
                assign(rk, nil)
            }
        default:
            report("rebalancing", KafkaError(error))
            assign(rk, nil)
        }
    }

    private func assign(_ rk: OpaquePointer, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let error = rd_kafka_assign(rk, partitions)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { report("assigning", KafkaError(error)) }
    }

    private func report(_ action: String, _ error: KafkaError) {
        logger.error("\(action) partitions failed", metadata: ["error": "\(error)"])
    }
}

extension ConsumerRecord {
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var headers = [RecordHeader]()
        var headerList: OpaquePointer?
        if rd_kafka_message_headers(message, &headerList) == RD_KAFKA_RESP_ERR_NO_ERROR, let headerList {
            var index = 0
            var name: UnsafePointer<CChar>?
            var pointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(headerList, index, &name, &pointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = pointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append(RecordHeader(name.map { String(cString: $0) } ?? "", bytes))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(message, &timestampType)
        self.init(
            topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset, key: key,
            value: value, headers: headers,
            timestamp: Date(timeIntervalSince1970: TimeInterval(max(milliseconds, 0)) / 1000))
    }
}
