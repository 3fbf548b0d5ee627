import CRdKafka
import Foundation
import Logging
import MessageBus
import Synchronization

/// Owns an `rd_kafka_t`. librdkafka handles are thread-safe, so the box is Sendable; the
/// owner decides when to destroy it (after the poll thread has stopped).
final class RdKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let callbacks: ClientCallbacks
    private let retainedCallbacks: Unmanaged<ClientCallbacks>

    enum Kind { case producer, consumer }

    init(kind: Kind, configuration: KafkaConfiguration, callbacks: ClientCallbacks,
         configure: (OpaquePointer) -> Void = { _ in }) throws(BusError) {
        guard let conf = rd_kafka_conf_new() else { throw .configuration("rd_kafka_conf_new failed") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in configuration.properties.sorted(by: { $0.key < $1.key }) {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw .configuration("\(key): \(Self.text(errorText))")
            }
        }
        let retained = Unmanaged.passRetained(callbacks)
        rd_kafka_conf_set_opaque(conf, retained.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let callbacks = Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            callbacks.log(level: level, facility: facility.map { String(cString: $0) } ?? "",
                          message: message.map { String(cString: $0) } ?? "")
        }
        rd_kafka_conf_set_error_cb(conf) { _, code, reason, opaque in
            guard let opaque else { return }
            Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
                .error(KafkaError(rd_kafka_resp_err_t(code), reason: reason.map { String(cString: $0) }))
        }
        configure(conf)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let rk = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            // rd_kafka_new only takes ownership of conf on success.
            rd_kafka_conf_destroy(conf)
            retained.release()
            throw .configuration(Self.text(errorText))
        }
        self.pointer = rk
        self.callbacks = callbacks
        self.retainedCallbacks = retained
        KafkaClients.count(clientID: configuration.properties["client.id"] ?? "")
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Destroys the handle; call exactly once, from a thread that may block.
    func destroy() {
        rd_kafka_destroy(pointer)
        retainedCallbacks.release()
    }
}

/// How many librdkafka clients this process has made, per `client.id`: a test checks that
/// requests make none.
public enum KafkaClients {
    private static let made = Mutex<[String: Int]>([:])

    static func count(clientID: String) { made.withLock { $0[clientID, default: 0] += 1 } }

    /// Clients made so far with this `client.id` (every service sets its name as its default).
    public static func madeSoFar(clientID: String) -> Int { made.withLock { $0[clientID] ?? 0 } }
}

/// Receives librdkafka's callbacks for one client. Subclasses add what their client needs.
class ClientCallbacks: @unchecked Sendable {
    let logger: Logger
    let health: ClientHealth

    init(logger: Logger, health: ClientHealth) {
        self.logger = logger
        self.health = health
    }

    func log(level: Int32, facility: String, message: String) {
        let swiftLevel: Logger.Level =
            switch level {
            case 0...3: .error
            case 4: .warning
            case 5, 6: .info
            default: .debug
            }
        logger.log(level: swiftLevel, "\(message)", metadata: ["rdkafka.facility": "\(facility)"])
    }

    /// Consumers override this to serve rebalances; other clients never get the callback.
    func rebalance(rk: OpaquePointer, error: rd_kafka_resp_err_t,
                   partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {}

    func error(_ error: KafkaError) {
        if error.code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue {
            health.markBrokersDown()
        }
        logger.warning("kafka client error", metadata: ["error": "\(error)"])
    }
}

/// Whether a client can currently reach its brokers, for readiness checks.
public final class ClientHealth: Sendable {
    private let brokersDown = Atomic<Bool>(false)

    public init() {}

    public var isReachable: Bool { !brokersDown.load(ordering: .relaxed) }
    func markBrokersDown() { brokersDown.store(true, ordering: .relaxed) }
    func markReachable() { brokersDown.store(false, ordering: .relaxed) }
}
