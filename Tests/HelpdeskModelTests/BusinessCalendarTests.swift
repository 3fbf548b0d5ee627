import Foundation
import HelpdeskModel
import Testing

func instant(_ text: String) -> Date { ISO8601.parse(text)! }
func hours(_ h: Double) -> Duration { .seconds(Int64(h * 3600)) }

@Suite("Business calendar: America/Denver cases")
struct BusinessCalendarTests {
    let policy = SLAPolicy.standard
    let withHolidays = try! SLAPolicy.load(yaml: "holidays: [2026-12-25, 2027-01-01]")

    func due(_ opened: String, _ severity: Severity, _ policy: SLAPolicy = .standard) -> String {
        ISO8601.format(policy.firstResponseDue(severity: severity, openedAt: instant(opened)))
    }

    @Test func designExampleCrossesTheSpringForwardWeekend() {
        // Friday 16:30 MST; DST starts Sunday 2026-03-08; Monday opens 09:00 MDT.
        #expect(due("2026-03-06T23:30:00Z", .critical) == "2026-03-09T15:30:00Z")
    }

    @Test func fallBackWeek() {
        // Friday 2026-10-30 16:30 MDT; DST ends Sunday 2026-11-01; Monday opens 09:00 MST (16:00Z).
        #expect(due("2026-10-30T22:30:00Z", .major) == "2026-11-02T19:30:00Z")
        #expect(due("2026-10-30T22:30:00Z", .critical) == "2026-11-02T16:30:00Z")
    }

    @Test func fridayHalfPastFourLocal() {
        #expect(due("2026-01-09T23:30:00Z", .critical) == "2026-01-12T16:30:00Z")
        #expect(due("2026-01-09T23:30:00Z", .major) == "2026-01-12T19:30:00Z")
        #expect(due("2026-01-09T23:30:00Z", .minor) == "2026-01-12T23:30:00Z")
    }

    @Test func openedOnAWeekendStartsAtMondayOpening() {
        // Saturday 11:00 MST.
        #expect(due("2026-01-10T18:00:00Z", .minor) == "2026-01-13T00:00:00Z")
        #expect(due("2026-01-10T18:00:00Z", .critical) == "2026-01-12T17:00:00Z")
    }

    @Test func holidaysAreSkipped() {
        // Thursday 2026-12-24 16:00 MST; Friday is a holiday.
        #expect(due("2026-12-24T23:00:00Z", .major, withHolidays) == "2026-12-28T19:00:00Z")
        #expect(due("2026-12-24T23:00:00Z", .major) == "2026-12-25T19:00:00Z")
        // Opened on the holiday itself.
        #expect(due("2026-12-25T18:00:00Z", .critical, withHolidays) == "2026-12-28T17:00:00Z")
    }

    @Test func yearEnd() {
        // Thursday 2026-12-31 15:00 MST; New Year's Day is a holiday, then the weekend.
        #expect(due("2026-12-31T22:00:00Z", .minor, withHolidays) == "2027-01-04T22:00:00Z")
    }

    @Test func aroundClosingAndOpening() {
        // Tuesday 2026-01-13.
        #expect(due("2026-01-13T23:59:59Z", .critical) == "2026-01-14T16:59:59Z")  // 16:59:59 MST
        #expect(due("2026-01-14T00:00:00Z", .critical) == "2026-01-14T17:00:00Z")  // 17:00:00, closed
        #expect(due("2026-01-14T00:00:01Z", .critical) == "2026-01-14T17:00:00Z")
        #expect(due("2026-01-13T16:00:00Z", .critical) == "2026-01-13T17:00:00Z")  // 09:00 opening
        #expect(due("2026-01-13T15:59:59Z", .critical) == "2026-01-13T17:00:00Z")  // 08:59:59
        #expect(due("2026-01-13T23:00:00Z", .critical) == "2026-01-14T00:00:00Z")  // 16:00 → exactly 17:00
    }

    @Test func elapsedRemainingAndOpenness() {
        let calendar = policy.calendar
        let mondayNine = instant("2026-01-12T16:00:00Z")
        #expect(calendar.isOpen(at: mondayNine))
        #expect(!calendar.isOpen(at: instant("2026-01-12T15:59:59Z")))
        #expect(!calendar.isOpen(at: instant("2026-01-13T00:00:00Z")))
        #expect(calendar.isOpen(at: instant("2026-01-12T23:59:59Z")))
        #expect(calendar.nextOpening(after: instant("2026-01-10T18:00:00Z")) == mondayNine)
        #expect(calendar.nextOpening(after: instant("2026-01-12T18:00:00Z")) == instant("2026-01-12T18:00:00Z"))
        // Friday 16:00 to Monday 10:00 local: one hour on Friday, one on Monday.
        #expect(calendar.businessElapsed(from: instant("2026-01-09T23:00:00Z"), to: instant("2026-01-12T17:00:00Z")) == hours(2))
        #expect(calendar.businessElapsed(from: instant("2026-01-12T17:00:00Z"), to: instant("2026-01-09T23:00:00Z")) == .zero)
        // A whole working week is 40 hours.
        #expect(calendar.businessElapsed(from: instant("2026-01-11T00:00:00Z"), to: instant("2026-01-18T00:00:00Z")) == hours(40))
        #expect(calendar.remaining(now: instant("2026-01-09T23:00:00Z"), due: instant("2026-01-12T17:00:00Z")) == hours(2))
        #expect(calendar.remaining(now: instant("2026-01-12T17:00:00Z"), due: instant("2026-01-09T23:00:00Z")) == hours(-2))
    }

    @Test func warningAtThreeQuarters() {
        #expect(ISO8601.format(policy.warningAt(severity: .critical, openedAt: instant("2026-01-12T16:00:00Z"))) == "2026-01-12T16:45:00Z")
        // 3 of 4 business hours from Friday 16:30: 30 min Friday, 2h30 Monday.
        #expect(ISO8601.format(policy.warningAt(severity: .major, openedAt: instant("2026-01-09T23:30:00Z"))) == "2026-01-12T18:30:00Z")
    }

    @Test func pausesDoNotCount() {
        let calendar = policy.calendar
        let start = instant("2026-01-12T16:00:00Z")  // Monday 09:00
        let pause = instant("2026-01-12T17:00:00Z")..<instant("2026-01-12T18:00:00Z")  // 10:00–11:00
        #expect(calendar.due(start: start, businessDuration: hours(4), pauses: [pause]) == instant("2026-01-12T21:00:00Z"))
        #expect(calendar.businessElapsed(from: start, to: instant("2026-01-12T21:00:00Z"), pauses: [pause]) == hours(4))
        // A pause over the evening costs nothing; overlapping pauses count once.
        let evening = instant("2026-01-13T00:00:00Z")..<instant("2026-01-13T15:00:00Z")
        let overlapping = instant("2026-01-12T17:30:00Z")..<instant("2026-01-12T18:30:00Z")
        #expect(calendar.due(start: start, businessDuration: hours(8), pauses: [evening, pause, overlapping])
            == instant("2026-01-13T17:30:00Z"))
    }

    @Test func reprioritizationRecomputesFromTheOriginalStart() {
        let opened = instant("2026-01-12T16:00:00Z")  // Monday 09:00
        // Minor → critical at 11:00: due 10:00, already past: breached at once.
        let up = policy.reprioritize(openedAt: opened, to: .critical, now: instant("2026-01-12T18:00:00Z"))
        #expect(up.dueAt == instant("2026-01-12T17:00:00Z"))
        #expect(up.breachedNow)
        // Critical → minor at 09:30: due 17:00, not breached.
        let down = policy.reprioritize(openedAt: opened, to: .minor, now: instant("2026-01-12T16:30:00Z"))
        #expect(down.dueAt == instant("2026-01-13T00:00:00Z"))
        #expect(!down.breachedNow)
    }

    @Test func lunchBreaksAndAroundTheClockCalendars() throws {
        let lunch = try SLAPolicy.load(yaml: """
            hours: [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "17:00" }]
            """)
        // Monday 11:30 + 1h: 30 min before lunch, 30 min after.
        #expect(due("2026-01-12T18:30:00Z", .critical, lunch) == "2026-01-12T20:30:00Z")
        #expect(!lunch.calendar.isOpen(at: instant("2026-01-12T19:30:00Z")))

        let allDay = try SLAPolicy.load(yaml: """
            hours: { start: "00:00", end: "24:00" }
            days: [sun, mon, tue, wed, thu, fri, sat]
            """)
        // Around the clock, business time is real time, even across both DST changes.
        for opened in ["2026-03-07T19:00:00Z", "2026-10-31T19:00:00Z", "2026-06-15T12:34:56Z"] {
            for target in [Severity.critical, .major, .minor] {
                let start = instant(opened)
                #expect(allDay.firstResponseDue(severity: target, openedAt: start)
                    == start.addingTimeInterval(Double(allDay.target(for: target).firstResponse.components.seconds)))
            }
        }
        #expect(allDay.calendar.businessElapsed(from: instant("2026-03-07T07:00:00Z"), to: instant("2026-03-09T06:00:00Z")) == hours(47))
    }

    @Test func explainListsTheConsumedWindows() {
        let windows = policy.calendar.consumedIntervals(start: instant("2026-03-06T23:30:00Z"), businessDuration: hours(1))
        #expect(windows.map { "\(ISO8601.format($0.lowerBound))–\(ISO8601.format($0.upperBound))" } == [
            "2026-03-06T23:30:00Z–2026-03-07T00:00:00Z", "2026-03-09T15:00:00Z–2026-03-09T15:30:00Z",
        ])
    }
}
