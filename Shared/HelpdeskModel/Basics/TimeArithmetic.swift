import Foundation

// Arithmetic on times that is total: no input, however far from now, traps. A ticket dated in
// the year 0001 or 9999 must not crash a service (a trapping `Int64(Double)` did, in a metric).

extension Int64 {
    /// `value` rounded down and clamped to Int64's range; NaN is 0.
    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.223_372_036_854_775e18 {
            self = .max
        } else if value <= -9.223_372_036_854_775e18 {
            self = .min
        } else {
            self = Int64(value.rounded(.down))
        }
    }
}

extension Date {
    /// Whole seconds since 1970-01-01T00:00:00Z, rounded down; clamped for any date.
    public var epochSeconds: Int64 { Int64(saturating: timeIntervalSince1970.rounded(.down)) }
}

extension TimeInterval {
    /// The interval in nanoseconds, clamped to Int64's range (~292 years either way).
    public var saturatingNanoseconds: Int64 { Int64(saturating: self * 1e9) }
}
