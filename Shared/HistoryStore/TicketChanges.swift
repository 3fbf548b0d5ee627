import Synchronization

/// Which tickets a committed batch changed (their ids), told to everyone listening: the
/// console's live board. SQLite tells it after its own transactions (one process writes a
/// file); PostgreSQL through `LISTEN`/`NOTIFY`, so every instance hears every projector's commits.
public typealias TicketChanges = Broadcast<[String]>

/// Values told to every current listener, each with a stream of its own.
public final class Broadcast<Element: Sendable>: Sendable {
    /// Values a slow listener may fall behind by before the oldest are dropped.
    public static var buffered: Int { 4_096 }
    private let listeners = Mutex<[Int: AsyncStream<Element>.Continuation]>([:])
    private let nextId = Atomic<Int>(0)

    public init() {}

    /// Each value published from now on, until the stream is dropped.
    public func subscribe() -> AsyncStream<Element> {
        let id = nextId.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(of: Element.self, bufferingPolicy: .bufferingNewest(Self.buffered))
        continuation.onTermination = { [weak self] _ in _ = self?.listeners.withLock { $0.removeValue(forKey: id) } }
        listeners.withLock { $0[id] = continuation }
        return stream
    }

    public func publish(_ value: Element) {
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.yield(value) }
    }

    /// Ends every listener's stream.
    public func finish() {
        for continuation in listeners.withLock({ Array($0.values) }) { continuation.finish() }
    }

    public var listenerCount: Int { listeners.withLock { $0.count } }
}
