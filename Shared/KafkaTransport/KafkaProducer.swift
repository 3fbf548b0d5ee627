import CRdKafka
import Foundation
import Logging
import MessageBus
import Synchronization

/// An idempotent producer. `publish` hands records to librdkafka and suspends until each
/// one's delivery report arrives; reports are served by a dedicated poll thread.
public final class KafkaProducer: RecordPublisher {
    /// Settings the services rely on: idempotence (no duplicates or reordering on retry),
    /// Java-compatible key partitioning, and a bounded delivery time so callers learn of an
    /// unreachable cluster.
    public static let defaults: [String: String] = [
        "enable.idempotence": "true",
        "partitioner": "murmur2_random",
        "linger.ms": "2",
        "message.timeout.ms": "30000",
        "message.max.bytes": "2097152",
    ]

    private let handle: RdKafkaHandle
    private let running = AtomicFlag(true)
    private let pollThread: Mutex<PollThread?> = Mutex(nil)
    public let health: ClientHealth
    public var isReachable: Bool { health.isReachable }

    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        let health = ClientHealth()
        self.health = health
        handle = try RdKafkaHandle(
            kind: .producer, configuration: configuration.forProducer.withDefaults(Self.defaults),
            callbacks: ClientCallbacks(logger: logger, health: health)
        ) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { rk, message, _ in
                guard let message, let opaque = message.pointee._private else { return }
                let slot = opaque.assumingMemoryBound(to: DeliverySlot.self).pointee
                let batch = slot.batch.takeRetainedValue()
                let report = message.pointee
                if report.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    if let rk, let client = rd_kafka_opaque(rk) {
                        Unmanaged<ClientCallbacks>.fromOpaque(client).takeUnretainedValue().health.markReachable()
                    }
                    batch.succeed(index: slot.index, partition: report.partition, offset: report.offset)
                } else {
                    batch.fail(index: slot.index, error: KafkaError(report.err))
                }
            }
        }
        let handle = self.handle
        let running = self.running
        pollThread.withLock {
            $0 = PollThread(name: "kafka-producer-poll") {
                while running.value {
                    rd_kafka_poll(handle.pointer, 100)
                }
            }
        }
    }

    public func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] {
        guard !records.isEmpty else { return [] }
        guard running.value else { throw BusError.closed }
        let batch = DeliveryBatch(records)
        for (index, record) in records.enumerated() {
            while true {
                let error = produce(record, slot: batch.slot(index))
                guard let error else { break }
                if error.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue, running.value {
                    // librdkafka's queue drains as the poll thread serves delivery reports.
                    try? await Task.sleep(for: .milliseconds(1))
                    continue
                }
                batch.fail(index: index, error: error)
                break
            }
        }
        return try await batch.result()
    }

    /// Hands one record to librdkafka, which copies key, value and headers. The slot's batch
    /// reference is retained until the delivery report releases it (or here, on failure).
    private func produce(_ record: OutgoingRecord, slot: UnsafeMutablePointer<DeliverySlot>) -> KafkaError? {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                header.value.withUnsafeBytes { bytes in
                    _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
                }
            }
        }
        let retained = slot.pointee.batch.retain()
        let error: OpaquePointer? = record.topic.withCString { topic in
            withOptionalBytes(record.key) { keyPointer, keyCount in
                withOptionalBytes(record.value) { valuePointer, valueCount in
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { vus in
                        vus.initialize(repeating: rd_kafka_vu_t())
                        vus[0].vtype = RD_KAFKA_VTYPE_TOPIC
                        vus[0].u.cstr = topic
                        vus[1].vtype = RD_KAFKA_VTYPE_KEY
                        vus[1].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: keyPointer), size: keyCount)
                        vus[2].vtype = RD_KAFKA_VTYPE_VALUE
                        vus[2].u.mem = .init(ptr: UnsafeMutableRawPointer(mutating: valuePointer), size: valueCount)
                        vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        vus[3].u.i = RD_KAFKA_MSG_F_COPY
                        vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE
                        vus[4].u.ptr = UnsafeMutableRawPointer(slot)
                        var count = 5
                        if let headers {
                            vus[count].vtype = RD_KAFKA_VTYPE_HEADERS
                            vus[count].u.headers = headers
                            count += 1
                        }
                        if let partition = record.partition {
                            vus[count].vtype = RD_KAFKA_VTYPE_PARTITION
                            vus[count].u.i32 = partition
                            count += 1
                        }
                        return rd_kafka_produceva(handle.pointer, vus.baseAddress, count)
                    }
                }
            }
        }
        guard let error else { return nil }
        if let headers { rd_kafka_headers_destroy(headers) }
        retained.release()
        return KafkaError(consuming: error)
    }

    /// Waits for outstanding deliveries (up to the message timeout), then destroys the client.
    public func close() async {
        guard running.exchange(false) else { return }
        let thread = pollThread.withLock { $0.take() }
        await thread?.join()
        let handle = self.handle
        let done = PollThread(name: "kafka-producer-close") {
            rd_kafka_flush(handle.pointer, 30_000)
            handle.destroy()
        }
        await done.join()
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R) -> R {
    guard let bytes else { return body(nil, 0) }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}

/// One record's place in its batch: the message opaque librdkafka hands back in the
/// delivery report. Slots live in one allocation per batch, owned by the batch.
struct DeliverySlot {
    let batch: Unmanaged<DeliveryBatch>
    let index: Int
}

/// Collects the delivery reports of one `publish` call and resumes it when all are in.
final class DeliveryBatch: Sendable {
    private struct State {
        var receipts: [DeliveryReceipt?]
        var remaining: Int
        var failure: BusError?
        var continuation: CheckedContinuation<[DeliveryReceipt], any Error>?

        var result: Result<[DeliveryReceipt], any Error> {
            if let failure { return .failure(failure) }
            return .success(receipts.map { $0! })
        }
    }

    private let state: Mutex<State>
    private let topics: [String]
    nonisolated(unsafe) private let slots: UnsafeMutablePointer<DeliverySlot>

    init(_ records: [OutgoingRecord]) {
        topics = records.map(\.topic)
        state = Mutex(State(receipts: Array(repeating: nil, count: records.count), remaining: records.count))
        slots = .allocate(capacity: records.count)
        let unmanaged = Unmanaged.passUnretained(self)
        for index in records.indices { (slots + index).initialize(to: DeliverySlot(batch: unmanaged, index: index)) }
    }

    deinit {
        slots.deinitialize(count: topics.count)
        slots.deallocate()
    }

    func slot(_ index: Int) -> UnsafeMutablePointer<DeliverySlot> { slots + index }

    func succeed(index: Int, partition: Int32, offset: Int64) {
        let receipt = DeliveryReceipt(topic: topics[index], partition: partition, offset: offset)
        finish { $0.receipts[index] = receipt }
    }

    func fail(index: Int, error: KafkaError) {
        let topic = topics[index]
        let busError: BusError =
            error.isUnknownTopic ? .unknownTopic(topic)
            : error.refusesTheRecord ? .recordRefused(topic: topic, index: index, reason: error.description)
            : .deliveryFailed(topic: topic, reason: error.description)
        // The first failure is reported, except that the first refusal of a record replaces a
        // passing failure: the caller replaces the refused record and publishes again.
        finish { state in
            if state.failure == nil || (busError.refusesARecord && state.failure?.refusesARecord == false) { state.failure = busError }
        }
    }
    /// Suspends until every record of the batch has been reported.
    func result() async throws -> [DeliveryReceipt] {
        try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<[DeliveryReceipt], any Error>? in
                if state.remaining == 0 { return state.result }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    private func finish(_ update: (inout State) -> Void) {
        let completion = state.withLock { state -> (CheckedContinuation<[DeliveryReceipt], any Error>, Result<[DeliveryReceipt], any Error>)? in
            update(&state)
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.result)
        }
        if let (continuation, result) = completion { continuation.resume(with: result) }
    }
}
