import Foundation

/// A report per severity over weeks or months, computed from the closed clocks of the period
/// (`AttainmentSample`), as the API, `helpdesk report` and the console give it.
public protocol PeriodReport: Codable, Sendable {
    associatedtype Row: Codable, Sendable
    var from: String { get }
    var to: String { get }
    var by: String { get }
    var timeZone: String { get }
    static var columns: [String] { get }
    init(from: String, to: String, by: String, timeZone: String, rows: [Row])
    /// One severity's row in one period, from its samples.
    static func row(_ label: String, _ severity: Severity, _ samples: [AttainmentSample], calendar: BusinessCalendar) -> Row
    func cells(durationsInSeconds: Bool) -> [[String]]
}

extension PeriodReport {
    /// The report over `samples` (clocks started within `period`, in `calendar`'s zone; others
    /// are ignored): one row per period and severity, periods in order, critical first.
    public init(samples: [AttainmentSample], period: ReportPeriod, calendar: BusinessCalendar) {
        self.init(from: period.from.description, to: period.to.description, by: period.by.rawValue,
                  timeZone: calendar.timeZoneIdentifier,
                  rows: period.groups(samples, calendar: calendar).map { Self.row($0.label, $0.severity, $0.samples, calendar: calendar) })
    }

    /// RFC 4180 CSV with the header line, durations in seconds.
    public var csv: String { CSV.render(header: Self.columns, rows: cells(durationsInSeconds: true)) }
}

extension AttainmentReport: PeriodReport {}
extension ForecastReport: PeriodReport {}

extension AttainmentReport {
    /// The report's columns, as `helpdesk report attainment` and the console's CSV have them.
    public static let columns = ["period", "severity", "tickets", "met", "breached", "met %", "median to respond", "p90 to respond",
                                 "late responses", "median late", "unanswered"]

    /// The rows' cells under `columns`: business durations as seconds, or as `1h05m`.
    public func cells(durationsInSeconds: Bool) -> [[String]] {
        func duration(_ seconds: Int?) -> String { Self.duration(seconds, inSeconds: durationsInSeconds) }
        return rows.map { row in
            [row.period, row.severity, "\(row.tickets)", "\(row.met)", "\(row.breached)",
             row.metPercent.map { String(format: "%.1f", $0) } ?? "",
             duration(row.medianBusinessSecondsToRespond), duration(row.p90BusinessSecondsToRespond),
             "\(row.lateResponses)", duration(row.medianBusinessSecondsLate), "\(row.unansweredBreaches)"]
        }
    }

    /// Business seconds as they are (CSV), or as `1h05m` (a table); empty for none.
    public static func duration(_ seconds: Int?, inSeconds: Bool) -> String {
        guard let seconds else { return "" }
        return inSeconds ? "\(seconds)" : String(format: "%dh%02dm", seconds / 3600, seconds % 3600 / 60)
    }
}

/// RFC 4180 CSV, safe to open in a spreadsheet.
public enum CSV {
    public static func render(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n")
    }

    public static func field(_ text: String) -> String {
        // A cell a spreadsheet would run as a formula (text from a ticket) is kept as text.
        let text = text.first.map { "=+-@\t\r".contains($0) } == true ? "'" + text : text
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
