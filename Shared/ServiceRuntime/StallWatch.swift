import Foundation
import Synchronization

/// Whether the processing loop is stuck: a publish the broker keeps failing holds every
/// partition of the batch, and `/readyz` must say so instead of "ready". The loop marks the
/// first failure and clears it once the work goes through; `/readyz` fails (check
/// `processing-progressing`) once a failure has lasted `after`.
public final class StallWatch: Sendable {
    private let since = Mutex<Date?>(nil)
    private let now: @Sendable () -> Date
    public let after: Duration

    public init(after: Duration = .seconds(10), now: @escaping @Sendable () -> Date = Date.init) {
        self.after = after
        self.now = now
    }

    /// Notes a failed attempt; the stall counts from the first one.
    public func failed() { since.withLock { $0 = $0 ?? now() } }

    /// The work went through.
    public func progressed() { since.withLock { $0 = nil } }

    public var isStalled: Bool {
        guard let since = since.withLock({ $0 }) else { return false }
        return now().timeIntervalSince(since) >= after.timeInterval
    }
}
