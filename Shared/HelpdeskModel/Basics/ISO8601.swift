import Foundation

/// ISO-8601 instants as this system writes and reads them. Output is always UTC with `Z`,
/// to the second. Input accepts `YYYY-MM-DDTHH:MM:SS`, optional fractional seconds
/// (truncated: deadlines are to the second), and `Z` or a `±HH:MM` offset; an offset is
/// required so that no instant is ambiguous.
public enum ISO8601 {
    /// Every instant the system reads or writes: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    /// `parse` refuses what falls outside once its offset is applied ("0000-01-01T00:00:00+00:01"
    /// is in the year −1); `format` writes an instant outside (a deadline computed past the
    /// year 9999) as the nearest end, so it never traps and always reads back.
    public static let earliestSecond: Int64 = -62_135_596_800
    public static let latestSecond: Int64 = 253_402_300_799

    public static func format(_ date: Date) -> String {
        let seconds = min(max(date.epochSeconds, earliestSecond), latestSecond)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(fromDays: days)
        var out = [UInt8]()
        out.reserveCapacity(20)
        appendDigits(&out, year, 4); out.append(0x2D)
        appendDigits(&out, month, 2); out.append(0x2D)
        appendDigits(&out, day, 2); out.append(0x54)
        appendDigits(&out, secondOfDay / 3600, 2); out.append(0x3A)
        appendDigits(&out, secondOfDay % 3600 / 60, 2); out.append(0x3A)
        appendDigits(&out, secondOfDay % 60, 2); out.append(0x5A)
        return String(decoding: out, as: UTF8.self)
    }

    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                value = value * 10 + Int64(b[i] - 0x30)
            }
            return value
        }
        guard b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var i = 19
        if b[i] == 0x2E {  // fractional seconds, truncated
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            guard b.count == i + 6, b[i + 3] == 0x3A, let oh = number(i + 1..<i + 3), let om = number(i + 4..<i + 6),
                oh <= 23, om <= 59
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 0x2D ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard seconds >= earliestSecond, seconds <= latestSecond else { return nil }
        return Date(timeIntervalSince1970: Double(seconds))
    }

    /// Truncates to the whole second, the resolution of every instant in the system.
    public static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    private static func appendDigits(_ out: inout [UInt8], _ value: Int64, _ width: Int) {
        let start = out.count
        out.append(contentsOf: repeatElement(0x30, count: width))
        var v = value
        for i in stride(from: start + width - 1, through: start, by: -1) {
            out[i] = 0x30 + UInt8(v % 10)
            v /= 10
        }
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's civil-calendar algorithms: exact for the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilDate(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
    }
}
