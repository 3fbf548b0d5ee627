import Foundation

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

    /// RFC 4180 CSV with the header line, durations in business seconds.
    public var csv: String { CSV.render(header: Self.columns, rows: cells(durationsInSeconds: true)) }
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
