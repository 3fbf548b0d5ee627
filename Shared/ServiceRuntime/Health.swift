import Synchronization

/// One condition `/readyz` checks; its name is what a 503 lists as failing.
public struct ReadinessCheck: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    /// The consumer has joined its group and holds its assignment.
    public static let kafkaGroupJoined = ReadinessCheck("kafka-group-joined")
    /// The producer reaches its brokers.
    public static let kafkaReachable = ReadinessCheck("kafka-reachable")
    /// Publishing has not kept failing for longer than `PROCESSING_STALL_AFTER_MS`.
    public static let processingProgressing = ReadinessCheck("processing-progressing")
}

/// Readiness checks, evaluated on each `/readyz` request.
public final class Readiness: Sendable {
    public typealias Probe = @Sendable () -> Bool
    private let checks = Mutex<[(ReadinessCheck, Probe)]>([])

    public init() {}

    public func add(_ check: ReadinessCheck, _ probe: @escaping Probe) {
        checks.withLock { $0.append((check, probe)) }
    }

    /// The checks that fail now (empty when ready).
    public func failing() -> [ReadinessCheck] {
        checks.withLock { $0 }.filter { !$0.1() }.map(\.0)
    }

    /// Whether `check` passes now (a check never added passes).
    public func passes(_ check: ReadinessCheck) -> Bool {
        checks.withLock { $0 }.allSatisfy { $0.0 != check || $0.1() }
    }
}

/// A flag a component sets once it has reached a state (e.g. "joined the group").
public final class ReadinessFlag: Sendable {
    private let storage = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { storage.load(ordering: .acquiring) }
    public func set(_ value: Bool) { storage.store(value, ordering: .releasing) }
}
