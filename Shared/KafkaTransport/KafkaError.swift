import CRdKafka

/// A librdkafka error code with its name and text.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int32
    public let name: String
    public let reason: String

    init(_ code: rd_kafka_resp_err_t, reason: String? = nil) {
        self.code = code.rawValue
        self.name = String(cString: rd_kafka_err2name(code))
        self.reason = reason ?? String(cString: rd_kafka_err2str(code))
    }

    init(consuming error: OpaquePointer) {
        self.init(rd_kafka_error_code(error), reason: String(cString: rd_kafka_error_string(error)))
        rd_kafka_error_destroy(error)
    }

    public var description: String { "\(name): \(reason)" }

    /// Errors no retry can mend: the record itself is refused.
    var refusesTheRecord: Bool {
        [RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
         RD_KAFKA_RESP_ERR_INVALID_RECORD].contains { $0.rawValue == code }
    }

    var isUnknownTopic: Bool {
        code == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC.rawValue || code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue
    }
}

public enum KafkaVersion {
    /// The librdkafka version this process runs with.
    public static var string: String { String(cString: rd_kafka_version_str()) }
}
