import Foundation

extension Duration {
    /// The duration in seconds, for arithmetic on `Date`s.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

extension Duration {
    /// The duration in whole milliseconds (rounded down), for settings given in milliseconds.
    public var milliseconds: Int { Int(self / .milliseconds(1)) }
}
