import Foundation

/// How far from its receipt a client-supplied instant may lie. A ticket dated 1970 or 0001
/// would breach at once (or crash a service doing arithmetic on it); a reply dated before the
/// ticket it answers would meet a deadline that never ran. Intake refuses an instant older than
/// `maxPast` before receipt, and clamps one after receipt to the receipt itself.
public struct InstantWindow: Sendable, Equatable {
    /// How long before receipt an instant may lie: 7 days by default, Kafka's default retention,
    /// so no record still on a topic is older than that unless its producer's clock is wrong.
    public var maxPast: Duration

    public static let standard = InstantWindow(maxPast: .seconds(7 * 86_400))

    public init(maxPast: Duration) {
        self.maxPast = maxPast
    }

    /// The earliest instant accepted for something received at `receipt`.
    public func earliest(forReceipt receipt: Date) -> Date {
        receipt.addingTimeInterval(-maxPast.timeInterval)
    }

    /// Why `instant` is refused for something received at `receipt`, or nil when it is accepted.
    public func problem(with instant: Date, receipt: Date) -> String? {
        guard instant < earliest(forReceipt: receipt) else { return nil }
        return "\(ISO8601.format(instant)) is more than \(Self.describe(maxPast)) before it was received "
            + "(\(ISO8601.format(receipt))); the earliest accepted is \(ISO8601.format(earliest(forReceipt: receipt)))"
    }

    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds % 86_400 == 0 { return seconds == 86_400 ? "1 day" : "\(seconds / 86_400) days" }
        if seconds % 3600 == 0 { return seconds == 3600 ? "1 hour" : "\(seconds / 3600) hours" }
        return "\(seconds) seconds"
    }
}

extension InboundMessage {
    /// The client-supplied instants of the message, with their field names.
    public var clientInstants: [(field: String, instant: Date)] {
        switch self {
        case .opened(let ticket): ticket.openedAt.map { [("openedAt", $0)] } ?? []
        case .message(let message): message.sentAt.map { [("sentAt", $0)] } ?? []
        case .severityChanged(let change): change.changedAt.map { [("changedAt", $0)] } ?? []
        case .statusChanged(let change): change.changedAt.map { [("changedAt", $0)] } ?? []
        case .assigned(let assignment): assignment.assignedAt.map { [("assignedAt", $0)] } ?? []
        case .shift(let change): change.at.map { [("at", $0)] } ?? []
        }
    }

    /// One field error per instant outside the window around `receipt`.
    public func instantErrors(receipt: Date, window: InstantWindow) -> [FieldError] {
        clientInstants.compactMap { field, instant in
            window.problem(with: instant, receipt: receipt).map { FieldError(field: field, problem: $0) }
        }
    }
}
