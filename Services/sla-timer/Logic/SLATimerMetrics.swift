import Foundation
import HelpdeskModel
import Metrics
import Synchronization

/// The sla-timer's metrics, shared by the partitions an instance owns.
public final class SLATimerMetrics: Sendable {
    private let openCounts = Mutex([Severity: Int]())
    private let openGauges: [Severity: Gauge]
    private let warnings: [Severity: Counter]
    private let breaches: [Severity: Counter]
    private let met: [Severity: Counter]
    private let stopped: Counter
    private let metricOpenCounts = Mutex([SLAMetric: Int]())
    private let metricOpenGauges: [SLAMetric: Gauge]
    private let metricOutcomes: [String: Counter]
    private let firingLag: Metrics.Timer
    private let lateInput: Counter

    public init() {
        func bySeverity<M>(_ make: (Severity) -> M) -> [Severity: M] {
            Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0, make($0)) })
        }
        openGauges = bySeverity { Gauge(label: "helpdesk_sla_open_clocks", dimensions: [("severity", $0.name)]) }
        warnings = bySeverity { Counter(label: "helpdesk_sla_warnings_total", dimensions: [("severity", $0.name)]) }
        breaches = bySeverity { Counter(label: "helpdesk_sla_breaches_total", dimensions: [("severity", $0.name)]) }
        met = bySeverity { Counter(label: "helpdesk_sla_met_total", dimensions: [("severity", $0.name)]) }
        stopped = Counter(label: "helpdesk_sla_stopped_total")
        let further: [SLAMetric] = [.nextReply, .periodicUpdate, .resolution]
        metricOpenGauges = Dictionary(uniqueKeysWithValues: further.map {
            ($0, Gauge(label: "helpdesk_sla_metric_open_clocks", dimensions: [("metric", $0.rawValue)]))
        })
        var outcomes = [String: Counter]()
        for metric in further {
            for outcome in Self.outcomes {
                outcomes["\(metric.rawValue)/\(outcome)"] = Counter(
                    label: "helpdesk_sla_metric_events_total", dimensions: [("metric", metric.rawValue), ("event", outcome)])
            }
        }
        metricOutcomes = outcomes
        firingLag = Metrics.Timer(label: "helpdesk_sla_timer_lag_seconds")
        lateInput = Counter(label: "helpdesk_sla_late_input_total")
        for gauge in openGauges.values { gauge.record(0) }
    }

    /// Adds (or, negative, removes) running first-response clocks of a severity.
    func adjustOpen(_ severity: Severity, by delta: Int) { Self.adjust(openCounts, openGauges, severity, by: delta) }

    public func openClocks(_ severity: Severity) -> Int { openCounts.withLock { $0[severity, default: 0] } }

    /// The events the further metrics' clocks are counted by.
    static let outcomes = ["started", "warning", "recalculated", "breached", "met", "stopped", "paused", "resumed"]

    /// Adds (or removes) open clocks of a metric beyond the first response.
    func adjustOpen(_ metric: SLAMetric, by delta: Int) { Self.adjust(metricOpenCounts, metricOpenGauges, metric, by: delta) }

    public func openClocks(_ metric: SLAMetric) -> Int { metricOpenCounts.withLock { $0[metric, default: 0] } }

    private static func adjust<Key: Hashable & Sendable>(_ counts: borrowing Mutex<[Key: Int]>, _ gauges: [Key: Gauge], _ key: Key, by delta: Int) {
        guard delta != 0 else { return }
        let value = counts.withLock { counts -> Int in
            counts[key, default: 0] += delta
            return counts[key]!
        }
        gauges[key]?.record(value)
    }

    func counted(_ metric: SLAMetric, _ outcome: String) { metricOutcomes["\(metric.rawValue)/\(outcome)"]?.increment() }

    func warned(_ severity: Severity) { warnings[severity]?.increment() }
    func breached(_ severity: Severity) { breaches[severity]?.increment() }
    func metDeadline(_ severity: Severity) { met[severity]?.increment() }
    func stoppedClock() { stopped.increment() }
    /// An input record published so long after its event time that deadlines wait for more like it.
    func readLateInput() { lateInput.increment() }

    /// How late a timer fired after the instant it was due.
    func fired(lateBy interval: TimeInterval) {
        firingLag.recordNanoseconds(max(0, interval).saturatingNanoseconds)
    }
}
