import Foundation
import HelpdeskModel
import HistoryStore
import Testing
import TestSupport

/// A generated month of tickets with known outcomes: the sla-timer's own clock
/// (`FirstResponseClock`) writes their SLA events, the store keeps them, and the report's
/// figures must equal figures computed here, independently, by walking the minutes with
/// Foundation's calendar.
@Suite("history: attainment report")
struct AttainmentReportTests {
    /// 24×7 with short targets, and the standard 09:00–17:00 Mountain Time policy. The period
    /// spans the end of daylight saving time (Sunday 2026-11-01).
    static let aroundTheClock = SLAPolicy(
        calendar: try! BusinessCalendar(timeZone: "America/Denver", windows: [OpeningWindow(start: 0, end: 86_400)!],
                                        days: Set(Weekday.allCases)),
        escalationAddress: "escalations@support.example",
        targets: [.critical: SeverityTarget(firstResponse: .seconds(15 * 60), warnAt: 0.75, escalateOnBreach: true),
                  .major: SeverityTarget(firstResponse: .seconds(30 * 60), warnAt: 0.75, escalateOnBreach: false),
                  .minor: SeverityTarget(firstResponse: .seconds(60 * 60), warnAt: 0.75, escalateOnBreach: false)])

    /// What the test knows of a ticket before anything runs.
    struct Scenario {
        var externalId: String
        var severity: Severity
        var openedAt: Date
        var respondedAt: Date?
    }

    /// Deterministic tickets: opened at whole minutes through the period (nights and weekends
    /// too), answered after a spread of delays or never.
    static func scenarios(count: Int, from: Date, days: Int, longestDelayMinutes: Int, seed: UInt64) -> [Scenario] {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        return (0..<count).map { index in
            let opened = from.addingTimeInterval(Double(next(days * 24 * 60)) * 60)
            let answered = next(10) != 0
            return Scenario(
                externalId: "R-\(index)", severity: [.critical, .major, .minor][next(3)], openedAt: opened,
                respondedAt: answered ? opened.addingTimeInterval(Double(1 + next(longestDelayMinutes)) * 60) : nil)
        }
    }

    /// The ticket's events: intake's and the classifier's, then whatever the sla-timer's clock
    /// says as time passes to the reply.
    static func events(_ scenario: Scenario, policy: SLAPolicy) -> [HistoryEvent] {
        var ticket = TicketEvents(scenario.externalId)
        var events = [ticket.received(at: scenario.openedAt),
                      ticket.classified(scenario.severity, openedAt: scenario.openedAt, at: scenario.openedAt)]
        var clock = FirstResponseClock(ticketId: ticket.ticketId, source: ticket.source, externalId: ticket.externalId)
        var outputs = clock.apply(.classified(severity: scenario.severity, openedAt: scenario.openedAt,
                                              eventId: EventID(rawValue: "c-\(scenario.externalId)")), policy: policy)
        if let reply = scenario.respondedAt {
            outputs += clock.apply(.tick(now: reply), policy: policy)
            outputs += clock.apply(.agentReplied(at: reply), policy: policy)
        } else {
            // Never answered: a month on, every clock has breached.
            outputs += clock.apply(.tick(now: scenario.openedAt.addingTimeInterval(30 * 86_400)), policy: policy)
        }
        for output in outputs {
            switch output {
            case .started(let started, _): events.append(ticket.event(started, at: started.startedAt, on: Topics.slaEvents))
            case .warning(let warning, _, let time, _): events.append(ticket.event(warning, at: time, on: Topics.slaEvents))
            case .breached(let breached, _): events.append(ticket.event(breached, at: breached.dueAt, on: Topics.slaEvents))
            case .met(let met, _): events.append(ticket.event(met, at: met.respondedAt, on: Topics.slaEvents))
            case .respondedAfterBreach(let late, _): events.append(ticket.event(late, at: late.respondedAt, on: Topics.slaEvents))
            case .recalculated, .stopped, .resolvedAfterBreach: Issue.record("unexpected \(output)")
            }
        }
        return events
    }

    /// The oracle: business minutes between two instants, minute by minute, from Foundation's
    /// time zone data and the opening hours given here.
    struct Oracle {
        let zone = TimeZone(identifier: "America/Denver")!
        let opens: Int  // minute of the day
        let closes: Int
        let weekdays: Set<Int>  // 0 = Sunday

        func local(_ instant: Date) -> (day: Int, minute: Int, weekday: Int) {
            let seconds = Int(instant.timeIntervalSince1970) + zone.secondsFromGMT(for: instant)
            let day = Int((Double(seconds) / 86_400).rounded(.down))
            return (day, (seconds - day * 86_400) / 60, ((day + 4) % 7 + 7) % 7)
        }

        func isOpen(_ instant: Date) -> Bool {
            let local = local(instant)
            return weekdays.contains(local.weekday) && local.minute >= opens && local.minute < closes
        }

        func businessMinutes(from start: Date, to end: Date) -> Int {
            var count = 0
            var minute = start
            while minute < end {
                if isOpen(minute) { count += 1 }
                minute = minute.addingTimeInterval(60)
            }
            return count
        }

        /// `YYYY-MM` or the Monday's `YYYY-MM-DD` of the local date an instant falls on.
        func period(_ instant: Date, byMonth: Bool) -> String {
            var local = local(instant)
            if !byMonth { local.day -= (local.weekday + 6) % 7 }
            let date = Date(timeIntervalSince1970: Double(local.day) * 86_400)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return byMonth ? String(format: "%04d-%02d", parts.year!, parts.month!)
                : String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
        }
    }

    static func nearestRank(_ p: Int, _ values: [Int]) -> Int? {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted[Int((Double(p) / 100 * Double(sorted.count)).rounded(.up)) - 1]
    }

    /// The rows the report must show, from the scenarios and the oracle alone.
    static func expectedRows(_ scenarios: [Scenario], oracle: Oracle, targets: [Severity: Int], byMonth: Bool, periods: [String])
        -> [AttainmentRow]
    {
        struct Outcome { var breached: Bool; var used: Int?; var late: Int? }
        var grouped = [String: [Severity: [Outcome]]]()
        for scenario in scenarios {
            let target = targets[scenario.severity]!
            let outcome: Outcome
            if let reply = scenario.respondedAt {
                let used = oracle.businessMinutes(from: scenario.openedAt, to: reply)
                outcome = used < target ? Outcome(breached: false, used: used * 60, late: nil)
                    : Outcome(breached: true, used: used * 60, late: (used - target) * 60)
            } else {
                outcome = Outcome(breached: true, used: nil, late: nil)
            }
            grouped[oracle.period(scenario.openedAt, byMonth: byMonth), default: [:]][scenario.severity, default: []].append(outcome)
        }
        return periods.flatMap { period in
            Severity.allCases.map { severity in
                let outcomes = grouped[period]?[severity] ?? []
                let met = outcomes.filter { !$0.breached }.count
                return AttainmentRow(
                    period: period, severity: severity.name, tickets: outcomes.count, met: met,
                    breached: outcomes.count - met,
                    metPercent: outcomes.isEmpty ? nil : (Double(met) / Double(outcomes.count) * 1000).rounded() / 10,
                    responded: outcomes.compactMap(\.used).count,
                    medianBusinessSecondsToRespond: nearestRank(50, outcomes.compactMap(\.used)),
                    p90BusinessSecondsToRespond: nearestRank(90, outcomes.compactMap(\.used)),
                    lateResponses: outcomes.compactMap(\.late).count,
                    medianBusinessSecondsLate: nearestRank(50, outcomes.compactMap(\.late)),
                    unansweredBreaches: outcomes.filter { $0.breached && $0.late == nil }.count)
            }
        }
    }

    func run(policy: SLAPolicy, oracle: Oracle, longestDelayMinutes: Int, backend: Backend) async throws {
        // Monday 2026-10-19 to Sunday 2026-11-15, local: four whole weeks around the DST change.
        let start = at("2026-10-19T06:00:00Z")
        let scenarios = Self.scenarios(count: 400, from: start, days: 28, longestDelayMinutes: longestDelayMinutes, seed: 2026)
        let store = try await StoreUnderTest(backend)
        defer { store.close() }
        try await store.store.apply(scenarios.flatMap { Self.events($0, policy: policy) })
        let reports = HistoryReports(repository: store.store, calendar: policy.calendar)
        let targets = Dictionary(uniqueKeysWithValues: Severity.allCases.map {
            ($0, Int(policy.target(for: $0).firstResponse.components.seconds / 60))
        })
        let weekly = try await reports.attainment(try ReportPeriod(from: LocalDate(parsing: "2026-10-19")!,
                                                                   to: LocalDate(parsing: "2026-11-15")!, by: .week))
        let weeks = ["2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09"]
        #expect(weekly.rows == Self.expectedRows(scenarios, oracle: oracle, targets: targets, byMonth: false, periods: weeks))
        let monthly = try await reports.attainment(try ReportPeriod(from: LocalDate(parsing: "2026-10-19")!,
                                                                    to: LocalDate(parsing: "2026-11-15")!, by: .month))
        #expect(monthly.rows == Self.expectedRows(scenarios, oracle: oracle, targets: targets, byMonth: true,
                                                  periods: ["2026-10", "2026-11"]))
        #expect(weekly.rows.map(\.tickets).reduce(0, +) == 400, "every ticket's clock closed inside the period")
        #expect(weekly.rows.contains { $0.breached > 0 } && weekly.rows.contains { $0.met > 0 })
        #expect(weekly.timeZone == "America/Denver")
    }

    @Test(arguments: Backend.allCases)
    func aroundTheClockWithShortTargets(backend: Backend) async throws {
        try await run(policy: Self.aroundTheClock, oracle: Oracle(opens: 0, closes: 24 * 60, weekdays: Set(0...6)),
                      longestDelayMinutes: 120, backend: backend)
    }

    @Test(arguments: Backend.allCases)
    func businessHoursAcrossTheEndOfDaylightSavingTime(backend: Backend) async throws {
        try await run(policy: .standard, oracle: Oracle(opens: 9 * 60, closes: 17 * 60, weekdays: Set(1...5)),
                      longestDelayMinutes: 3 * 24 * 60, backend: backend)
    }

    @Test func aPeriodIsRefusedWhenReversedOrTooLong() {
        #expect(throws: ReportPeriodError.reversed) {
            try ReportPeriod(from: LocalDate(parsing: "2026-11-02")!, to: LocalDate(parsing: "2026-11-01")!, by: .week)
        }
        #expect(throws: ReportPeriodError.tooLong) {
            try ReportPeriod(from: LocalDate(parsing: "2016-01-01")!, to: LocalDate(parsing: "2026-11-01")!, by: .month)
        }
    }
}

/// The forecast report's figures, worked by hand over four critical tickets of one week.
@Suite("forecast report")
struct ForecastReportTests {
    func sample(breached: Bool, expected: String?, responded: String?, flagged: String?, told: Bool = false,
                forecastAt: String? = nil) -> AttainmentSample {
        var sample = AttainmentSample(severity: .critical, startedAt: at("2026-11-02T16:00:00Z"), breached: breached,
                                      businessSecondsToRespond: nil, businessSecondsLate: nil)
        sample.dueAt = at("2026-11-02T17:00:00Z")
        sample.expectedAt = expected.map(at)
        sample.respondedAt = responded.map(at)
        sample.firstAtRiskAt = flagged.map(at)
        sample.customerTold = told
        sample.firstForecastAt = forecastAt.map(at)
        return sample
    }

    @Test func errorsKeptPromisesPrecisionAndRecall() throws {
        let samples = [
            // Breached, told 17:40, answered 17:45; flagged an hour ahead.
            sample(breached: true, expected: "2026-11-02T17:40:00Z", responded: "2026-11-02T17:45:00Z",
                   flagged: "2026-11-02T16:00:00Z", told: true),
            // Breached and unanswered; flagged half an hour ahead only.
            sample(breached: true, expected: nil, responded: nil, flagged: "2026-11-02T16:30:00Z"),
            // A false alarm: flagged, then met ten minutes before the expectation.
            sample(breached: false, expected: "2026-11-02T16:50:00Z", responded: "2026-11-02T16:40:00Z",
                   flagged: "2026-11-02T16:05:00Z"),
            // Met exactly when expected.
            sample(breached: false, expected: "2026-11-02T16:20:00Z", responded: "2026-11-02T16:20:00Z", flagged: nil),
            // Breached, flagged on arrival: a one-hour target leaves no earlier moment.
            sample(breached: true, expected: nil, responded: nil, flagged: "2026-11-02T16:00:30Z"),
            // Pushed 20 minutes late: flagged at its first forecast, which is its arrival.
            sample(breached: true, expected: nil, responded: nil, flagged: "2026-11-02T16:20:30Z", forecastAt: "2026-11-02T16:20:00Z"),
            // Expected at 16:55 Denver, answered at 09:05 the next morning: ten business minutes off.
            sample(breached: false, expected: "2026-11-02T23:55:00Z", responded: "2026-11-03T16:05:00Z", flagged: nil),
        ]
        let period = try ReportPeriod(from: LocalDate(parsing: "2026-11-02")!, to: LocalDate(parsing: "2026-11-08")!, by: .week)
        let report = ForecastReport(samples: samples, period: period, calendar: SLAPolicy.standard.calendar)
        #expect(report.rows.map(\.severity) == ["critical", "major", "minor"])
        let critical = report.rows[0]
        #expect(critical.tickets == 7 && critical.forecast == 4)
        #expect(critical.medianErrorSeconds == 300 && critical.p90ErrorSeconds == 600, "business time: the night does not count")
        #expect(critical.answeredByExpectation == 2)
        #expect(critical.customersTold == 1 && critical.customersToldKept == 0)
        #expect(critical.flagged == 5 && critical.flaggedBreached == 4 && critical.precisionPercent == 80)
        #expect(critical.breached == 4 && critical.breachedFlaggedInTime == 3 && critical.recallPercent == 75)
        #expect(report.rows[1].tickets == 0 && report.rows[1].precisionPercent == nil && report.rows[1].recallPercent == nil)
        let header = "period,severity,tickets,forecast,median error,p90 error,by expectation,"
            + "customers told,told kept,flagged,flagged breached,precision %,breached,flagged in time,recall %"
        #expect(report.csv.split(separator: "\n").first.map(String.init) == header)
        #expect(report.cells(durationsInSeconds: false)[0][4] == "0h05m")
    }
}
