import Foundation

/// A closed first-response clock, as the attainment report reads it from the store.
public struct AttainmentSample: Sendable, Equatable {
    public var severity: Severity
    public var startedAt: Date
    public var breached: Bool
    /// Business seconds from the start to the first response; nil while unanswered.
    public var businessSecondsToRespond: Int?
    /// Business seconds from the deadline to the response, for an answered breach.
    public var businessSecondsLate: Int?
    /// The deadline and the first response (the forecast report compares them with the forecast).
    public var dueAt: Date?
    public var respondedAt: Date?
    /// The forecaster's first expectation (when it was made, and the instant it expected),
    /// whether the customer was told it, and when the ticket was first said to be at risk.
    public var firstForecastAt: Date?
    public var expectedAt: Date?
    public var customerTold = false
    public var firstAtRiskAt: Date?

    public init(severity: Severity, startedAt: Date, breached: Bool, businessSecondsToRespond: Int?, businessSecondsLate: Int?) {
        self.severity = severity
        self.startedAt = startedAt
        self.breached = breached
        self.businessSecondsToRespond = businessSecondsToRespond
        self.businessSecondsLate = businessSecondsLate
    }
}

/// Dates that bound a report: `from` and `to` are local dates in the policy's zone, both
/// included.
public struct ReportPeriod: Sendable, Equatable {
    public enum Grouping: String, WireEnum { case week, month }
    public var from: LocalDate
    public var to: LocalDate
    public var by: Grouping

    /// At most 400 days: a report reads every closed clock of its period at once (about 1.3
    /// million at 100,000 tickets a month).
    public static let longestDays: Int64 = 400

    public init(from: LocalDate, to: LocalDate, by: Grouping) throws(ReportPeriodError) {
        guard from <= to else { throw .reversed }
        guard to.dayNumber - from.dayNumber < Self.longestDays else { throw .tooLong }
        self.from = from
        self.to = to
        self.by = by
    }

    /// [start of `from`, start of the day after `to`) in the calendar's zone.
    public func instants(in calendar: BusinessCalendar) -> Range<Date> {
        calendar.startOfDay(from)..<calendar.startOfDay(LocalDate(dayNumber: to.dayNumber + 1))
    }

    /// The first local date of the week (from Monday) or month holding `day`.
    public func bucket(of day: LocalDate) -> LocalDate {
        switch by {
        case .week:
            let sinceMonday = Int64((day.weekday.rawValue + 6) % 7)
            return LocalDate(dayNumber: day.dayNumber - sinceMonday)
        case .month:
            let (year, month, _) = ISO8601.civilDate(fromDays: day.dayNumber)
            return LocalDate(year: Int(year), month: Int(month), day: 1)!
        }
    }

    /// Every bucket from the one holding `from` to the one holding `to`.
    public var buckets: [LocalDate] {
        var result = [LocalDate]()
        var day = bucket(of: from)
        while day <= to {
            result.append(day)
            switch by {
            case .week: day = LocalDate(dayNumber: day.dayNumber + 7)
            case .month:
                let (year, month, _) = ISO8601.civilDate(fromDays: day.dayNumber)
                day = month == 12 ? LocalDate(year: Int(year) + 1, month: 1, day: 1)! : LocalDate(year: Int(year), month: Int(month) + 1, day: 1)!
            }
        }
        return result
    }

    /// The samples started within the period, by bucket and severity: every bucket in order, each
    /// with every severity, critical first (empty where none started).
    public func groups(
        _ samples: [AttainmentSample], calendar: BusinessCalendar
    ) -> [(label: String, severity: Severity, samples: [AttainmentSample])] {
        let window = instants(in: calendar)
        var groups = [LocalDate: [Severity: [AttainmentSample]]]()
        for sample in samples where window.contains(sample.startedAt) {
            groups[bucket(of: calendar.local(sample.startedAt).date), default: [:]][sample.severity, default: []].append(sample)
        }
        return buckets.flatMap { bucket in
            Severity.allCases.map { (label(of: bucket), $0, groups[bucket]?[$0] ?? []) }
        }
    }

    /// The bucket's label: `2026-11` for a month, the Monday's date for a week.
    public func label(of bucket: LocalDate) -> String {
        by == .month ? String(bucket.description.prefix(7)) : bucket.description
    }
}

public enum ReportPeriodError: Error, Sendable, Equatable, CustomStringConvertible {
    case reversed, tooLong
    public var description: String {
        switch self {
        case .reversed: "from must not be after to"
        case .tooLong: "a report covers at most \(ReportPeriod.longestDays) days"
        }
    }
}

/// First-response attainment for one severity in one week or month.
public struct AttainmentRow: Sendable, Equatable, Codable {
    public var period: String
    public var severity: String
    /// Clocks that ended met or breached, started in this period.
    public var tickets: Int
    public var met: Int
    public var breached: Int
    /// met / tickets × 100, one decimal; nil without tickets.
    public var metPercent: Double?
    /// Tickets with a first response, and the median and 90th percentile of its business time.
    public var responded: Int
    public var medianBusinessSecondsToRespond: Int?
    public var p90BusinessSecondsToRespond: Int?
    /// Breaches answered late, and the median of how late (business seconds).
    public var lateResponses: Int
    public var medianBusinessSecondsLate: Int?
    /// Breaches still without a first response.
    public var unansweredBreaches: Int

    public init(
        period: String, severity: String, tickets: Int, met: Int, breached: Int, metPercent: Double?, responded: Int,
        medianBusinessSecondsToRespond: Int?, p90BusinessSecondsToRespond: Int?, lateResponses: Int,
        medianBusinessSecondsLate: Int?, unansweredBreaches: Int
    ) {
        self.period = period
        self.severity = severity
        self.tickets = tickets
        self.met = met
        self.breached = breached
        self.metPercent = metPercent
        self.responded = responded
        self.medianBusinessSecondsToRespond = medianBusinessSecondsToRespond
        self.p90BusinessSecondsToRespond = p90BusinessSecondsToRespond
        self.lateResponses = lateResponses
        self.medianBusinessSecondsLate = medianBusinessSecondsLate
        self.unansweredBreaches = unansweredBreaches
    }
}

public struct AttainmentReport: Sendable, Equatable, Codable {
    public var from: String
    public var to: String
    public var by: String
    public var timeZone: String
    /// One row per period and severity, periods in order, critical first.
    public var rows: [AttainmentRow]

    public init(from: String, to: String, by: String, timeZone: String, rows: [AttainmentRow]) {
        self.from = from
        self.to = to
        self.by = by
        self.timeZone = timeZone
        self.rows = rows
    }

    /// One severity's row in one period (business times as the sla-timer measured them).
    public static func row(
        _ label: String, _ severity: Severity, _ samples: [AttainmentSample], calendar: BusinessCalendar
    ) -> AttainmentRow {
        let breached = samples.filter(\.breached)
        let toRespond = samples.compactMap(\.businessSecondsToRespond).sorted()
        let late = breached.compactMap(\.businessSecondsLate).sorted()
        let met = samples.count - breached.count
        return AttainmentRow(
            period: label, severity: severity.name, tickets: samples.count, met: met, breached: breached.count,
            metPercent: samples.isEmpty ? nil : (Double(met) * 1000 / Double(samples.count)).rounded() / 10,
            responded: toRespond.count, medianBusinessSecondsToRespond: percentile(50, of: toRespond),
            p90BusinessSecondsToRespond: percentile(90, of: toRespond), lateResponses: late.count,
            medianBusinessSecondsLate: percentile(50, of: late),
            unansweredBreaches: breached.filter { $0.businessSecondsLate == nil }.count)
    }

    /// The nearest-rank percentile of sorted values: the value at rank ⌈p/100 × n⌉ (from 1).
    public static func percentile(_ p: Int, of sorted: [Int]) -> Int? {
        guard !sorted.isEmpty else { return nil }
        let rank = (p * sorted.count + 99) / 100
        return sorted[max(rank, 1) - 1]
    }
}
