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
        firingLag = Metrics.Timer(label: "helpdesk_sla_timer_lag_seconds")
        lateInput = Counter(label: "helpdesk_sla_late_input_total")
        for gauge in openGauges.values { gauge.record(0) }
    }

    /// Adds (or, negative, removes) running clocks of a severity.
    func adjustOpen(_ severity: Severity, by delta: Int) {
        guard delta != 0 else { return }
        let value = openCounts.withLock { counts -> Int in
            counts[severity, default: 0] += delta
            return counts[severity]!
        }
        openGauges[severity]?.record(value)
    }

    public func openClocks(_ severity: Severity) -> Int { openCounts.withLock { $0[severity, default: 0] } }

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
