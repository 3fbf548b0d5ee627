import Foundation

/// How the forecaster's word held against what happened, for one severity in one week or month:
/// the expectation against the first response, and the at-risk signal against the breaches.
public struct ForecastRow: Sendable, Equatable, Codable {
    public var period: String
    public var severity: String
    /// Clocks that ended met or breached, started in this period.
    public var tickets: Int
    /// Of those, answered tickets the forecaster gave an expectation for, and how far the answer
    /// fell from it (business seconds, either way): median and 90th percentile.
    public var forecast: Int
    public var medianErrorSeconds: Int?
    public var p90ErrorSeconds: Int?
    /// Answered no later than expected.
    public var answeredByExpectation: Int
    /// Customers told an expectation later than the target, and how many were answered by it.
    public var customersTold: Int
    public var customersToldKept: Int
    /// Tickets said to be at risk at least once, and how many of them breached.
    public var flagged: Int
    public var flaggedBreached: Int
    /// flaggedBreached / flagged × 100, one decimal; nil without flagged tickets.
    public var precisionPercent: Double?
    /// Breaches, and how many were said to be at risk in time: at least an hour before their due
    /// instant, or on arrival (at the ticket's first forecast: a target of an hour leaves no
    /// earlier moment), as the backtest counts.
    public var breached: Int
    public var breachedFlaggedInTime: Int
    /// breachedFlaggedInTime / breached × 100, one decimal; nil without breaches.
    public var recallPercent: Double?
}

public struct ForecastReport: Sendable, Equatable, Codable {
    public var from: String
    public var to: String
    public var by: String
    public var timeZone: String
    /// One row per period and severity, periods in order, critical first.
    public var rows: [ForecastRow]

    /// How early an at-risk signal must come to count toward recall (docs/policy.md), and how
    /// soon after the ticket's first forecast (else its clock's start) a signal counts as given
    /// on arrival.
    public static let warningLead: TimeInterval = 3_600
    public static let onArrival: TimeInterval = 60

    public init(from: String, to: String, by: String, timeZone: String, rows: [ForecastRow]) {
        self.from = from
        self.to = to
        self.by = by
        self.timeZone = timeZone
        self.rows = rows
    }

    /// One severity's row in one period, over the attainment report's samples; errors in
    /// `calendar`'s business time (a night between the expectation and the answer does not count).
    /// The report's calendar is the default policy's: a severity or plan that counts in another
    /// (around the clock, say) has its errors measured in this one.
    public static func row(
        _ label: String, _ severity: Severity, _ samples: [AttainmentSample], calendar: BusinessCalendar
    ) -> ForecastRow {
        let answered = samples.compactMap { sample in
            sample.expectedAt.flatMap { expected in sample.respondedAt.map { (expected: expected, responded: $0) } }
        }
        let errors = answered.map { pair in
            Int(calendar.businessElapsed(from: min(pair.expected, pair.responded), to: max(pair.expected, pair.responded))
                .components.seconds)
        }.sorted()
        let kept = { (sample: AttainmentSample) in
            sample.respondedAt.flatMap { responded in sample.expectedAt.map { responded <= $0 } } ?? false
        }
        let told = samples.filter(\.customerTold)
        let flagged = samples.filter { $0.firstAtRiskAt != nil }
        let breached = samples.filter(\.breached)
        let inTime = breached.count { sample in
            guard let flaggedAt = sample.firstAtRiskAt, let dueAt = sample.dueAt else { return false }
            let arrived = sample.firstForecastAt ?? sample.startedAt
            return flaggedAt <= dueAt.addingTimeInterval(-warningLead) || flaggedAt <= arrived.addingTimeInterval(onArrival)
        }
        func percent(_ part: Int, _ whole: Int) -> Double? { whole == 0 ? nil : (Double(part) * 1000 / Double(whole)).rounded() / 10 }
        let flaggedBreached = flagged.count(where: \.breached)
        return ForecastRow(
            period: label, severity: severity.name, tickets: samples.count, forecast: answered.count,
            medianErrorSeconds: AttainmentReport.percentile(50, of: errors), p90ErrorSeconds: AttainmentReport.percentile(90, of: errors),
            answeredByExpectation: samples.count(where: kept), customersTold: told.count, customersToldKept: told.count(where: kept),
            flagged: flagged.count, flaggedBreached: flaggedBreached, precisionPercent: percent(flaggedBreached, flagged.count),
            breached: breached.count, breachedFlaggedInTime: inTime, recallPercent: percent(inTime, breached.count))
    }

    /// The report's columns, as `helpdesk report forecast` and the console have them.
    public static let columns = ["period", "severity", "tickets", "forecast", "median error", "p90 error", "by expectation",
                                 "customers told", "told kept", "flagged", "flagged breached", "precision %", "breached",
                                 "flagged in time", "recall %"]

    /// The rows' cells under `columns`: business durations as seconds, or as `1h05m`.
    public func cells(durationsInSeconds: Bool) -> [[String]] {
        func duration(_ seconds: Int?) -> String { AttainmentReport.duration(seconds, inSeconds: durationsInSeconds) }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }
        return rows.map { row in
            [row.period, row.severity, "\(row.tickets)", "\(row.forecast)", duration(row.medianErrorSeconds),
             duration(row.p90ErrorSeconds), "\(row.answeredByExpectation)", "\(row.customersTold)", "\(row.customersToldKept)",
             "\(row.flagged)", "\(row.flaggedBreached)", percent(row.precisionPercent), "\(row.breached)",
             "\(row.breachedFlaggedInTime)", percent(row.recallPercent)]
        }
    }
}
