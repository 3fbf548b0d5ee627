import Foundation
import HelpdeskModel

/// The report page's charts, drawn on the server as SVG: grouped bars with a `<title>` on every
/// bar and a legend in words, so that no figure depends on colour or on JavaScript.
enum ReportCharts {
    struct Series {
        var name: String
        var cssClass: String
        var values: [Double?]
    }

    /// Met % per period, a bar per severity.
    static func metPercent(_ report: AttainmentReport) -> String {
        let periods = orderedPeriods(report)
        return groupedBars(
            title: "First responses in time, % of closed clocks", groups: periods,
            series: Severity.allCases.map { severity in
                Series(name: severity.name, cssClass: "sev-\(severity.name)", values: periods.map { period in
                    report.rows.first { $0.period == period && $0.severity == severity.name }?.metPercent
                })
            },
            maximum: 100, format: { String(format: "%.1f%%", $0) })
    }

    /// Breaches per period, a bar per severity.
    static func breaches(_ report: AttainmentReport) -> String {
        let periods = orderedPeriods(report)
        let series = Severity.allCases.map { severity in
            Series(name: severity.name, cssClass: "sev-\(severity.name)", values: periods.map { period in
                report.rows.first { $0.period == period && $0.severity == severity.name }.map { Double($0.breached) }
            })
        }
        return groupedBars(title: "Breached first responses", groups: periods, series: series, maximum: countAxis(series),
                           format: { String(Int($0)) })
    }

    /// How late the late answers were: the median, in business minutes, per period and severity.
    static func lateness(_ report: AttainmentReport) -> String {
        let periods = orderedPeriods(report)
        let series = Severity.allCases.map { severity in
            Series(name: severity.name, cssClass: "sev-\(severity.name)", values: periods.map { period in
                report.rows.first { $0.period == period && $0.severity == severity.name }?.medianBusinessSecondsLate.map { Double($0) / 60 }
            })
        }
        return groupedBars(title: "Median lateness of late first responses, business minutes", groups: periods, series: series,
                           maximum: countAxis(series), format: { String(format: "%.0f", $0) })
    }

    /// The buckets of the time-to-first-response distribution: shares of the severity's target.
    static let distributionBuckets = ["≤ 25% of target", "25–50%", "50–75%", "75–100%", "late", "unanswered"]

    /// How many first responses fell in each share of their target, per severity.
    static func distribution(_ samples: [AttainmentSample], policy: SLAPolicy) -> [Severity: [Int]] {
        var counts = [Severity: [Int]]()
        for severity in Severity.allCases { counts[severity] = Array(repeating: 0, count: distributionBuckets.count) }
        for sample in samples {
            let bucket: Int
            if let seconds = sample.businessSecondsToRespond, let target = policy.targets[sample.severity]?.firstResponse.components.seconds,
               target > 0 {
                let share = Double(seconds) / Double(target)
                bucket = sample.breached || share > 1 ? 4 : min(3, Int(share * 4 - 1e-9).clamped(0, 3))
            } else {
                bucket = 5
            }
            counts[sample.severity]![bucket] += 1
        }
        return counts
    }

    static func distributionChart(_ counts: [Severity: [Int]]) -> String {
        let series = Severity.allCases.map { severity in
            Series(name: severity.name, cssClass: "sev-\(severity.name)", values: (counts[severity] ?? []).map(Double.init))
        }
        return groupedBars(title: "Time to first response, as a share of the target", groups: distributionBuckets, series: series,
                           maximum: countAxis(series), format: { String(Int($0)) })
    }

    /// A count axis's top: even, at least 2, so that its middle line is a whole number too.
    static func countAxis(_ series: [Series]) -> Double {
        let most = series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0
        return max(2, (most / 2).rounded(.up) * 2)
    }

    private static func orderedPeriods(_ report: AttainmentReport) -> [String] {
        var seen = Set<String>()
        return report.rows.map(\.period).filter { seen.insert($0).inserted }
    }

    /// Bars grouped along x, one colour (and legend entry) per series, a value axis from 0 to
    /// `maximum` with three grid lines; a missing value draws no bar and says so in its title.
    static func groupedBars(title: String, groups: [String], series: [Series], maximum: Double, format: (Double) -> String) -> String {
        let bar = 14.0, left = 48.0, top = 28.0, plot = 160.0, bottom = 44.0
        // Wide enough for its label under each group, and for the title and legend.
        let groupWidth = max(Double(series.count) * bar + 18, 100)
        let gap = groupWidth - Double(series.count) * bar
        let width = max(left + max(1, Double(groups.count)) * groupWidth + 12, 480)
        let height = top + plot + bottom + 22
        var svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
            + "width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(HTMLText.escaped(title))\">"
        svg += "<title>\(HTMLText.escaped(title))</title>"
        svg += "<text class=\"chart-title\" x=\"\(Int(left))\" y=\"16\">\(HTMLText.escaped(title))</text>"
        for step in 0...2 {
            let value = maximum * Double(step) / 2
            let y = top + plot - plot * Double(step) / 2
            svg += "<line class=\"grid\" x1=\"\(Int(left))\" x2=\"\(Int(width - 8))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\"/>"
            svg += "<text class=\"axis\" x=\"\(Int(left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(HTMLText.escaped(format(value)))</text>"
        }
        for (index, group) in groups.enumerated() {
            let x0 = left + Double(index) * groupWidth + gap / 2
            for (position, item) in series.enumerated() {
                let x = x0 + Double(position) * bar
                guard let value = item.values[safe: index] ?? nil else {
                    svg += "<rect class=\"bar-none\" x=\"\(fmt(x))\" y=\"\(fmt(top + plot - 1))\" width=\"\(fmt(bar - 2))\" height=\"1\">"
                        + "<title>\(HTMLText.escaped("\(group), \(item.name): no data"))</title></rect>"
                    continue
                }
                let h = maximum > 0 ? plot * min(value, maximum) / maximum : 0
                svg += "<rect class=\"bar \(item.cssClass)\" x=\"\(fmt(x))\" y=\"\(fmt(top + plot - h))\" width=\"\(fmt(bar - 2))\" "
                    + "height=\"\(fmt(h))\"><title>\(HTMLText.escaped("\(group), \(item.name): \(format(value))"))</title></rect>"
            }
            svg += "<text class=\"axis\" x=\"\(fmt(x0 + Double(series.count) * bar / 2))\" y=\"\(fmt(top + plot + 16))\" "
                + "text-anchor=\"middle\">\(HTMLText.escaped(group))</text>"
        }
        var legendX = left
        for item in series {
            svg += "<rect class=\"bar \(item.cssClass)\" x=\"\(fmt(legendX))\" y=\"\(fmt(height - 18))\" width=\"10\" height=\"10\"/>"
            svg += "<text class=\"legend\" x=\"\(fmt(legendX + 14))\" y=\"\(fmt(height - 9))\">\(HTMLText.escaped(item.name))</text>"
            legendX += 90
        }
        return svg + "</svg>"
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}

extension Int {
    fileprivate func clamped(_ low: Int, _ high: Int) -> Int { Swift.min(high, Swift.max(low, self)) }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
