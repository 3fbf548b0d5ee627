import Foundation

public enum Weekday: Int, Sendable, CaseIterable, Hashable, Comparable {
    case sun = 0, mon, tue, wed, thu, fri, sat

    public var name: String { ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][rawValue] }
    public init?(name: String) {
        guard let day = Weekday.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = day
    }
    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A local calendar date (no time, no zone), e.g. a holiday.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01 in the proleptic Gregorian calendar.
    public let dayNumber: Int64

    public init(dayNumber: Int64) { self.dayNumber = dayNumber }

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let number = ISO8601.daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        guard ISO8601.civilDate(fromDays: number) == (Int64(year), Int64(month), Int64(day)) else { return nil }
        dayNumber = number
    }

    /// `YYYY-MM-DD`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public var weekday: Weekday { Weekday(rawValue: Int(((dayNumber + 4) % 7 + 7) % 7))! }

    public var description: String {
        let (y, m, d) = ISO8601.civilDate(fromDays: dayNumber)
        return String(format: "%04d-%02d-%02d", Int(y), Int(m), Int(d))
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.dayNumber < rhs.dayNumber }
}

/// Opening hours within a day, in seconds after local midnight; `end` may be 86,400 (24:00).
public struct OpeningWindow: Sendable, Hashable {
    public let start: Int32
    public let end: Int32

    public init?(start: Int32, end: Int32) {
        guard start >= 0, end <= 86_400, start < end else { return nil }
        self.start = start
        self.end = end
    }

    /// `HH:MM` (or `HH:MM:SS`), `24:00` allowed as an end.
    public static func secondOfDay(_ text: String) -> Int32? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
            let hours = Int32(parts[0]), let minutes = Int32(parts[1]),
            let seconds = parts.count == 3 ? Int32(parts[2]) : 0,
            minutes < 60, seconds < 60, hours < 24 || (hours == 24 && minutes == 0 && seconds == 0)
        else { return nil }
        return hours * 3600 + minutes * 60 + seconds
    }
}

public enum CalendarError: Error, Equatable, CustomStringConvertible {
    case unknownTimeZone(String)
    case noOpenTime
    case overlappingWindows

    public var description: String {
        switch self {
        case .unknownTimeZone(let name): "\"\(name)\" is not an IANA time zone"
        case .noOpenTime: "the calendar has no open time at all"
        case .overlappingWindows: "opening windows overlap"
        }
    }
}

/// When support is open: weekly windows on some days, in one IANA time zone (DST-aware),
/// minus holidays. All arithmetic is in whole seconds and walks days, never minutes: the
/// cost of an operation grows by a few steps per day between its instants.
public struct BusinessCalendar: Sendable {
    public let timeZone: TimeZone
    public let windows: [OpeningWindow]
    public let days: Set<Weekday>
    public let holidays: Set<LocalDate>

    private let zone: ZoneOffsets
    private let openDayMask: UInt8
    private let holidayNumbers: Set<Int64>

    public init(timeZone identifier: String, windows: [OpeningWindow], days: Set<Weekday>, holidays: Set<LocalDate> = [])
        throws(CalendarError)
    {
        guard let timeZone = TimeZone(identifier: identifier) else { throw .unknownTimeZone(identifier) }
        let sorted = windows.sorted { $0.start < $1.start }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.end > b.start { throw .overlappingWindows }
        guard !sorted.isEmpty, !days.isEmpty else { throw .noOpenTime }
        self.timeZone = timeZone
        self.windows = sorted
        self.days = days
        self.holidays = holidays
        zone = ZoneOffsets(timeZone)
        openDayMask = days.reduce(0) { $0 | (1 << UInt8($1.rawValue)) }
        holidayNumbers = Set(holidays.map(\.dayNumber))
    }

    /// 09:00–17:00 America/Denver, Monday to Friday, no holidays: the policy's default.
    public static let standard = try! BusinessCalendar(
        timeZone: "America/Denver", windows: [OpeningWindow(start: 9 * 3600, end: 17 * 3600)!],
        days: [.mon, .tue, .wed, .thu, .fri])

    // MARK: Operations on dates

    public func isOpen(at instant: Date) -> Bool { isOpen(at: seconds(instant)) }

    /// The first instant at or after `instant` when support is open.
    public func nextOpening(after instant: Date) -> Date { date(nextOpening(after: seconds(instant))) }

    /// When `duration` of business time has passed after `start` (a start outside business
    /// hours begins at the next opening). Business time inside `pauses` does not count.
    public func due(start: Date, businessDuration: Duration, pauses: [Range<Date>] = []) -> Date {
        date(due(start: seconds(start), businessSeconds: businessDuration.components.seconds, pauses: secondRanges(pauses)))
    }

    /// Business time between two instants (zero if `to` is not after `from`), minus pauses.
    public func businessElapsed(from: Date, to: Date, pauses: [Range<Date>] = []) -> Duration {
        .seconds(businessElapsed(from: seconds(from), to: seconds(to), pauses: secondRanges(pauses)))
    }

    /// Business time left until `due`; negative (business time overdue) once it has passed.
    public func remaining(now: Date, due: Date) -> Duration {
        let now = seconds(now)
        let due = seconds(due)
        return .seconds(now <= due ? businessElapsed(from: now, to: due, pauses: []) : -businessElapsed(from: due, to: now, pauses: []))
    }

    /// The instant a `fraction` of the business duration has been used (e.g. 0.75 for a warning).
    public func warningInstant(start: Date, businessDuration: Duration, fraction: Double) -> Date {
        let seconds = Int64(saturating: Double(businessDuration.components.seconds) * fraction)
        return due(start: start, businessDuration: .seconds(seconds))
    }

    /// The open intervals a deadline consumed, for explaining it.
    public func consumedIntervals(start: Date, businessDuration: Duration) -> [Range<Date>] {
        let start = seconds(start)
        var remaining = businessDuration.components.seconds
        var consumed = [Range<Date>]()
        forEachOpenInterval(from: start) { open, close in
            let from = max(open, start)
            let used = min(close - from, remaining)
            if used > 0 { consumed.append(date(from)..<date(from + used)) }
            remaining -= used
            return remaining > 0
        }
        return consumed
    }

    // MARK: Whole-second core

    func isOpen(at instant: Int64) -> Bool {
        var open = false
        forEachOpenInterval(from: instant) { start, end in
            open = start <= instant && instant < end
            return false
        }
        return open
    }

    func nextOpening(after instant: Int64) -> Int64 {
        var opening = instant
        forEachOpenInterval(from: instant) { start, _ in
            opening = max(start, instant)
            return false
        }
        return opening
    }

    func due(start: Int64, businessSeconds: Int64, pauses: [Range<Int64>]) -> Int64 {
        var remaining = max(0, businessSeconds)
        var result = start
        var pauseIndex = 0
        forEachOpenInterval(from: start) { open, close in
            var from = max(open, start)
            // Cut the paused stretches out of this open interval.
            while from < close {
                while pauseIndex < pauses.count, pauses[pauseIndex].upperBound <= from { pauseIndex += 1 }
                var pieceEnd = close
                if pauseIndex < pauses.count {
                    let pause = pauses[pauseIndex]
                    if pause.lowerBound <= from {
                        from = min(pause.upperBound, close)
                        continue
                    }
                    pieceEnd = min(close, pause.lowerBound)
                }
                if remaining == 0 {
                    result = from
                    return false
                }
                if from + remaining <= pieceEnd {
                    result = from + remaining
                    remaining = 0
                    return false
                }
                remaining -= pieceEnd - from
                from = pieceEnd
            }
            return true
        }
        return result
    }

    func businessElapsed(from: Int64, to: Int64, pauses: [Range<Int64>]) -> Int64 {
        guard to > from else { return 0 }
        var total: Int64 = 0
        forEachOpenInterval(from: from) { open, close in
            guard open < to else { return false }
            total += min(close, to) - max(open, from)
            return close < to
        }
        for pause in pauses where pause.upperBound > from && pause.lowerBound < to {
            let start = max(pause.lowerBound, from)
            let end = min(pause.upperBound, to)
            forEachOpenInterval(from: start) { open, close in
                guard open < end else { return false }
                total -= min(close, end) - max(open, start)
                return close < end
            }
        }
        return total
    }

    /// Calls `body` with each open interval [start, end) in UTC seconds that ends after
    /// `instant`, in order, until it returns false. One step per local day.
    @inline(__always)
    func forEachOpenInterval(from instant: Int64, _ body: (Int64, Int64) -> Bool) {
        var day = floorDiv(instant + zone.offset(at: instant), 86_400)
        while true {
            let weekday = Int(((day + 4) % 7 + 7) % 7)
            if openDayMask & (1 << UInt8(weekday)) != 0, !holidayNumbers.contains(day) {
                let midnight = day * 86_400
                // Most days have no clock change: one offset serves every window.
                let constant = zone.isConstant(from: midnight - 93_600, to: midnight + 180_000)
                let offset = zone.offset(at: midnight)
                for window in windows {
                    let start = constant ? midnight + Int64(window.start) - offset : zone.utc(fromLocal: midnight + Int64(window.start))
                    let end = constant ? midnight + Int64(window.end) - offset : zone.utc(fromLocal: midnight + Int64(window.end))
                    if end > instant, start < end, !body(start, end) { return }
                }
            }
            day += 1
        }
    }

    // MARK: Local time, for explanations

    /// The local date and second of day of an instant.
    public func local(_ instant: Date) -> (date: LocalDate, secondOfDay: Int64, utcOffset: Int64) {
        let utc = seconds(instant)
        let offset = zone.offset(at: utc)
        let local = utc + offset
        let day = floorDiv(local, 86_400)
        return (LocalDate(dayNumber: day), local - day * 86_400, offset)
    }

    /// The instant a local date begins (its first second that exists, across a DST change).
    public func startOfDay(_ day: LocalDate) -> Date { date(zone.utc(fromLocal: day.dayNumber * 86_400)) }

    /// The zone's identifier, e.g. `America/Denver`.
    public var timeZoneIdentifier: String { timeZone.identifier }

    private func seconds(_ date: Date) -> Int64 { date.epochSeconds }
    private func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: Double(seconds)) }

    private func secondRanges(_ pauses: [Range<Date>]) -> [Range<Int64>] {
        // Sorted and merged, so the walk can cut them in one pass.
        let ranges = pauses.map { seconds($0.lowerBound)..<seconds($0.upperBound) }.filter { !$0.isEmpty }
            .sorted { $0.lowerBound < $1.lowerBound }
        var merged = [Range<Int64>]()
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}

@inline(__always) func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : (a - b + 1) / b
}
