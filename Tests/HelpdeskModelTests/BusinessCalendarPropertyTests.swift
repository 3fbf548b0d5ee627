import Foundation
import HelpdeskModel
import PropertyBased
import Testing

/// The obviously correct reference: walk minute by minute (business hours, holidays and DST
/// changes all fall on minute boundaries), asking Foundation's Calendar whether each minute is open.
struct ReferenceCalendar {
    let calendar: Calendar
    let windows: [(Int, Int)]
    let days: Set<Int>
    let holidays: Set<String>

    init(timeZone: String, windows: [(Int, Int)], days: Set<Int>, holidays: Set<String> = []) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone)!
        self.calendar = calendar
        self.windows = windows
        self.days = days
        self.holidays = holidays
    }

    func isOpen(_ t: Int64) -> Bool {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: Date(timeIntervalSince1970: Double(t)))
        let date = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        guard days.contains(c.weekday! - 1), !holidays.contains(date) else { return false }
        let second = c.hour! * 3600 + c.minute! * 60 + c.second!
        return windows.contains { $0.0 <= second && second < $0.1 }
    }

    func due(_ start: Int64, _ duration: Int64) -> Int64 {
        var t = start
        var remaining = duration
        while !isOpen(t) { t += 60 - ((t % 60) + 60) % 60 }
        while remaining > 0 {
            let step = 60 - ((t % 60) + 60) % 60
            if isOpen(t) {
                let used = min(step, remaining)
                remaining -= used
                t += used
            } else {
                t += step
            }
        }
        return t
    }

    func elapsed(_ from: Int64, _ to: Int64) -> Int64 {
        var t = from
        var total: Int64 = 0
        while t < to {
            let step = min(60 - ((t % 60) + 60) % 60, to - t)
            if isOpen(t) { total += step }
            t += step
        }
        return total
    }
}

struct CalendarCase: Sendable, CustomTestStringConvertible {
    let name: String
    let timeZone: String
    let windows: [(Int32, Int32)]
    let days: [Weekday]
    let holidays: [String]

    var testDescription: String { name }

    var calendar: BusinessCalendar {
        try! BusinessCalendar(
            timeZone: timeZone, windows: windows.map { OpeningWindow(start: $0.0, end: $0.1)! }, days: Set(days),
            holidays: Set(holidays.map { LocalDate(parsing: $0)! }))
    }

    var reference: ReferenceCalendar {
        ReferenceCalendar(timeZone: timeZone, windows: windows.map { (Int($0.0), Int($0.1)) },
                          days: Set(days.map(\.rawValue)), holidays: Set(holidays))
    }
}

let weekdays: [Weekday] = [.mon, .tue, .wed, .thu, .fri]
let calendarCases: [CalendarCase] = [
    CalendarCase(name: "Denver 09-17 with holidays", timeZone: "America/Denver", windows: [(32_400, 61_200)], days: weekdays,
                 holidays: ["2026-12-25", "2027-01-01", "2026-07-03", "2027-11-25"]),
    CalendarCase(name: "Berlin with lunch break", timeZone: "Europe/Berlin", windows: [(28_800, 43_200), (46_800, 64_800)],
                 days: weekdays, holidays: ["2026-12-24", "2026-10-03"]),
    CalendarCase(name: "Sydney (southern DST) incl. Saturday", timeZone: "Australia/Sydney", windows: [(30_600, 63_000)],
                 days: weekdays + [.sat], holidays: ["2027-01-26"]),
    CalendarCase(name: "Kolkata (no DST, half-hour offset)", timeZone: "Asia/Kolkata", windows: [(36_000, 68_400)],
                 days: weekdays, holidays: []),
    CalendarCase(name: "St. John's (-03:30, DST) night window", timeZone: "America/St_Johns", windows: [(0, 10_800), (75_600, 86_400)],
                 days: [.sun, .mon, .tue, .wed, .thu], holidays: []),
    CalendarCase(name: "Denver around the clock", timeZone: "America/Denver", windows: [(0, 86_400)],
                 days: Weekday.allCases, holidays: []),
]

// Two years of instants: 2026-01-01 to 2027-12-31.
let instants = Gen.int64(in: 1_767_225_600...1_830_297_599)
let businessSeconds = Gen.int64(in: 0...(10 * 3600))

@Suite("Business calendar properties")
struct BusinessCalendarPropertyTests {
    @Test(arguments: calendarCases)
    func dueMatchesTheReference(testCase: CalendarCase) async {
        let calendar = testCase.calendar
        let reference = testCase.reference
        await propertyCheck(count: 150, input: instants, businessSeconds) { start, duration in
            let due = calendar.due(start: Date(timeIntervalSince1970: Double(start)), businessDuration: .seconds(duration))
            #expect(Int64(due.timeIntervalSince1970) == reference.due(start, duration))
            // The reference walks second by second: a turn for other suites' loops.
            await Task.yield()
        }
    }

    @Test(arguments: calendarCases)
    func isOpenAndElapsedMatchTheReference(testCase: CalendarCase) async {
        let calendar = testCase.calendar
        let reference = testCase.reference
        await propertyCheck(count: 1000, input: instants) { t in
            #expect(calendar.isOpen(at: Date(timeIntervalSince1970: Double(t))) == reference.isOpen(t))
            await Task.yield()
        }
        await propertyCheck(count: 100, input: instants, Gen.int64(in: 0...(4 * 86_400))) { from, length in
            let elapsed = calendar.businessElapsed(
                from: Date(timeIntervalSince1970: Double(from)), to: Date(timeIntervalSince1970: Double(from + length)))
            #expect(elapsed.components.seconds == reference.elapsed(from, from + length))
            await Task.yield()
        }
    }

    @Test(arguments: calendarCases)
    func elapsedInvertsDueAndDueIsMonotonic(testCase: CalendarCase) async {
        let calendar = testCase.calendar
        await propertyCheck(count: 2000, input: instants, businessSeconds, Gen.int64(in: 0...7200)) { start, duration, extra in
            let startDate = Date(timeIntervalSince1970: Double(start))
            let due = calendar.due(start: startDate, businessDuration: .seconds(duration))
            #expect(calendar.businessElapsed(from: startDate, to: due) == .seconds(duration))
            // More business time never makes the deadline earlier, nor does a later start.
            #expect(calendar.due(start: startDate, businessDuration: .seconds(duration + extra)) >= due)
            #expect(calendar.due(start: startDate.addingTimeInterval(Double(extra)), businessDuration: .seconds(duration)) >= due)
            // The deadline never lies inside a closed period: the second before it is open.
            if duration > 0 {
                #expect(calendar.isOpen(at: due.addingTimeInterval(-1)))
            } else {
                #expect(calendar.isOpen(at: due))
            }
            #expect(calendar.remaining(now: startDate, due: due) <= .seconds(duration))
            await Task.yield()
        }
    }
}
