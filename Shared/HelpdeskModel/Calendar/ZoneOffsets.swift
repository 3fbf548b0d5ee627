import Foundation

/// A time zone's UTC offsets as a table of transitions, built once from the system's IANA
/// data so that converting instants is a binary search instead of a Foundation call.
/// Covers 1970–2100; outside that range the nearest known offset applies.
struct ZoneOffsets: Sendable {
    /// UTC instants (seconds) at which `offsets[i + 1]` takes effect.
    private let transitions: [Int64]
    /// `offsets[0]` applies before the first transition.
    private let offsets: [Int64]

    static let rangeEnd: Int64 = 4_102_444_800  // 2100-01-01

    init(_ zone: TimeZone) {
        var transitions = [Int64]()
        var offsets = [Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: 0)))]
        var cursor = Date(timeIntervalSince1970: 0)
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < Double(Self.rangeEnd) {
            let offset = Int64(zone.secondsFromGMT(for: next))
            if offset != offsets.last {
                transitions.append(Int64(next.timeIntervalSince1970))
                offsets.append(offset)
            }
            cursor = next
        }
        self.transitions = transitions
        self.offsets = offsets
    }

    /// Index of the offset in effect at UTC second `utc`.
    @inline(__always) private func index(at utc: Int64) -> Int {
        var low = 0
        var high = transitions.count
        while low < high {
            let mid = (low + high) >> 1
            if transitions[mid] <= utc { low = mid + 1 } else { high = mid }
        }
        return low
    }

    @inline(__always) func offset(at utc: Int64) -> Int64 { offsets[index(at: utc)] }

    /// The UTC instant of a local wall-clock time (seconds since the local epoch). A time that
    /// occurs twice (clocks go back) resolves to the earlier instant; a time that does not
    /// exist (clocks go forward) moves later by the length of the gap, as java.time does.
    @inline(__always) func utc(fromLocal local: Int64) -> Int64 {
        let before = index(at: local - 86_400)
        let after = index(at: local + 86_400)
        if before == after { return local - offsets[before] }
        var best: Int64?
        for i in before...after {
            let candidate = local - offsets[i]
            if index(at: candidate) == i { best = min(best ?? candidate, candidate) }
        }
        return best ?? (local - offsets[before])
    }

    /// Whether the offset is the same throughout [from, to) in UTC seconds.
    @inline(__always) func isConstant(from: Int64, to: Int64) -> Bool { index(at: from) == index(at: to) }
}
