import Synchronization

/// What `/readyz` reports: ready only when every named check passes. Checks are closures so
/// they read live state (a consumer's assignment, a client's broker reachability).
public final class Readiness: Sendable {
    public typealias Check = @Sendable () -> Bool
    private let checks = Mutex<[(String, Check)]>([])

    public init() {}

    public func add(_ name: String, _ check: @escaping Check) {
        checks.withLock { $0.append((name, check)) }
    }

    /// The names of the checks that fail now (empty when ready).
    public func failing() -> [String] {
        checks.withLock { $0 }.filter { !$0.1() }.map(\.0)
    }
}

/// A flag a component sets once it has reached a state (e.g. "joined the group").
public final class ReadinessFlag: Sendable {
    private let storage = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { storage.load(ordering: .acquiring) }
    public func set(_ value: Bool) { storage.store(value, ordering: .releasing) }
}
