import Foundation
import HelpdeskModel
import Testing

@Suite("Policy file")
struct PolicyFileTests {
    @Test func theDesignExampleLoads() throws {
        let policy = try SLAPolicy.load(yaml: """
            timezone: America/Denver
            hours: { start: "09:00", end: "17:00" }
            days: [mon, tue, wed, thu, fri]
            holidays: [2026-12-25, 2027-01-01]
            escalationAddress: escalations@support.example
            severities:                     # hours may also be { start: "00:00", end: "24:00" }
              critical: { firstResponse: 1h, warnAt: 0.75, escalateOnBreach: true }
              major:    { firstResponse: 4h, warnAt: 0.75, escalateOnBreach: false }
              minor:    { firstResponse: 8h, warnAt: 0.75, escalateOnBreach: false }
            """)
        #expect(policy.calendar.timeZone.identifier == "America/Denver")
        #expect(policy.calendar.holidays == [LocalDate(year: 2026, month: 12, day: 25)!, LocalDate(year: 2027, month: 1, day: 1)!])
        #expect(policy.calendar.days == [.mon, .tue, .wed, .thu, .fri])
        #expect(policy.target(for: .critical) == SeverityTarget(
            firstResponse: .seconds(3600), warnAt: 0.75, escalateOnBreach: true,
            notifyOnWarning: [.assignee, .supportLead], notifyOnBreach: [.supportLead, .management]))
        #expect(policy.target(for: .minor).firstResponse == .seconds(8 * 3600))
        #expect(policy.escalationAddress == "escalations@support.example")
    }

    @Test func theBuiltInDefaultIsThePolicyTable() throws {
        let empty = try SLAPolicy.load(yaml: "")
        for severity in Severity.allCases {
            #expect(empty.target(for: severity) == SLAPolicy.standard.target(for: severity))
        }
        #expect(SLAPolicy.standard.target(for: .major) == SeverityTarget(
            firstResponse: .seconds(4 * 3600), warnAt: 0.75, escalateOnBreach: false,
            notifyOnWarning: [.assignee], notifyOnBreach: [.assignee, .supportLead]))
        #expect(empty.calendar.holidays.isEmpty)
    }

    @Test func whoIsToldIsSetPerSeverity() throws {
        let policy = try SLAPolicy.load(yaml: """
            severities:
              minor: { notify: { warning: [], breach: [supportLead, management] } }
            """)
        #expect(policy.target(for: .minor).notifyOnWarning.isEmpty)
        #expect(policy.target(for: .minor).notifyOnBreach == [.supportLead, .management])
        #expect(policy.target(for: .critical) == SLAPolicy.standard.target(for: .critical))
    }

    @Test(arguments: [
        ("severities: { minor: { notify: { breach: [boss] } } }",
         #"severities.minor.notify.breach[0]: "boss" is not one of assignee|supportLead|escalationEngineer|management|customer"#),
        ("severities: { minor: { notify: { escalation: [] } } }",
         "severities.minor.notify.escalation: unknown key (expected one of breach, warning)"),
        ("severities: { major: { firstResponse: \"4 hrs\" } }", #"severities.major.firstResponse: "4 hrs" is not a duration (like 1h, 30m, 90s, 1h30m)"#),
        ("severities: { minor: { warnAt: 1.5 } }", #"severities.minor.warnAt: "1.5" is not a fraction between 0 and 1"#),
        ("severities: { urgent: { firstResponse: 1h } }", "severities.urgent: unknown key (expected one of critical, major, minor)"),
        ("severities: { critical: { escalateOnBreach: maybe } }", #"severities.critical.escalateOnBreach: "maybe" is not true or false"#),
        ("timezone: Mars/Olympus", #"timezone: "Mars/Olympus" is not an IANA time zone"#),
        ("hours: { start: \"9am\", end: \"17:00\" }", #"hours.start: "9am" is not a time of day (HH:MM, quoted)"#),
        ("hours: { start: \"17:00\", end: \"09:00\" }", "hours: start must be before end"),
        ("hours: [{ start: \"09:00\", end: \"13:00\" }, { start: \"12:00\", end: \"17:00\" }]", "hours: opening windows overlap"),
        ("days: []", "days: the calendar has no open time at all"),
        ("days: [mon, funday]", #"days[1]: "funday" is not one of sun|mon|tue|wed|thu|fri|sat"#),
        ("holidays: [2026-02-30]", #"holidays[0]: "2026-02-30" is not a date (YYYY-MM-DD)"#),
        ("escalationAddress: nobody", #"escalationAddress: "nobody" is not an e-mail address"#),
        ("hour: { start: \"09:00\", end: \"17:00\" }", "hour: unknown key (expected one of calendars, days, documentationForm, escalationAddress, holidays, hours, plans, severities, staffing, timezone)"),
        ("severities: [1h]", "severities: must be a mapping"),
    ])
    func everyErrorNamesTheKey(yaml: String, message: String) {
        #expect(throws: PolicyError.self) { try SLAPolicy.load(yaml: yaml) }
        do {
            _ = try SLAPolicy.load(yaml: yaml)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test(arguments: [("1h", 3600), ("30m", 1800), ("90s", 90), ("1h30m", 5400), ("2h15m10s", 8110), ("0m", 0)])
    func durationsParse(text: String, seconds: Int64) {
        #expect(DurationText.parse(text) == .seconds(seconds))
    }

    @Test(arguments: ["", "h", "1", "4 hrs", "1m1h", "1h1h", "-1h", "1.5h", "１h"])
    func badDurationsDoNot(text: String) {
        #expect(DurationText.parse(text) == nil)
    }
}
