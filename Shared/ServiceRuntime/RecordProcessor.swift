import MessageBus

/// A service's logic as the processing loop drives it: records in, records out.
public protocol RecordProcessor: Sendable {
    /// The records to publish for one input record. Throw `UnprocessableRecord` for input that
    /// can never be handled (it is dead-lettered at once); any other error is retried.
    func process(_ record: ConsumerRecord) async throws -> [OutgoingRecord]
    /// Called before any record of these partitions is handed to `process`; stateful
    /// services restore their state here.
    func partitionsAssigned(_ partitions: [TopicPartition]) async throws
    /// Called after everything processed from these partitions has been published and
    /// committed; stateful services drop their state here.
    func partitionsRevoked(_ partitions: [TopicPartition]) async
}

extension RecordProcessor {
    public func partitionsAssigned(_ partitions: [TopicPartition]) async throws {}
    public func partitionsRevoked(_ partitions: [TopicPartition]) async {}
}

/// Input that can never be handled: malformed, oversize, or otherwise invalid. `code` is a
/// stable machine-readable reason (used in dead-letter headers and metrics).
public struct UnprocessableRecord: Error, Sendable, CustomStringConvertible {
    public let code: String
    public let reason: String

    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
