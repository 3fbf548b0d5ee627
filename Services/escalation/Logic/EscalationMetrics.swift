import Foundation
import HelpdeskModel
import Metrics
import Synchronization

/// The escalation service's metrics, shared by the partitions an instance owns.
public final class EscalationMetrics: Sendable {
    private static let activeStates: [EscalationState] = [.requested, .evaluating, .escalated]
    private let activeCounts = Mutex([EscalationState: Int]())
    private let activeGauges: [EscalationState: Gauge]
    // Made once, like the sla-timer's: a metric looked up by label per event costs a lock and a hash.
    private let events: [String: Counter]
    private let refusals: [String: Counter]
    private let ignored: [EscalationChannel: Counter]

    public init() {
        activeGauges = Dictionary(uniqueKeysWithValues: Self.activeStates.map {
            ($0, Gauge(label: "helpdesk_escalations_active", dimensions: [("state", $0.rawValue)]))
        })
        let types = [EscalationRequested.type, EscalationEvaluating.type, EscalationEscalated.type, EscalationConditionRecorded.type,
                     EscalationDeEscalated.type, EscalationDeEscalationRefused.type]
        events = Dictionary(uniqueKeysWithValues: types.map {
            ($0, Counter(label: "helpdesk_escalation_events_total", dimensions: [("type", $0)]))
        })
        refusals = Dictionary(uniqueKeysWithValues: ["request", "evaluate", "escalate", "recordCondition", "deEscalate"].map {
            ($0, Counter(label: "helpdesk_escalation_commands_refused_total", dimensions: [("command", $0)]))
        })
        ignored = Dictionary(uniqueKeysWithValues: EscalationChannel.allCases.map {
            ($0, Counter(label: "helpdesk_escalation_requests_ignored_total", dimensions: [("via", $0.rawValue)]))
        })
        for gauge in activeGauges.values { gauge.record(0) }
    }

    /// Adds (or, negative, removes) escalations in a state; states that are not active are not counted.
    func adjustActive(_ state: EscalationState, by delta: Int) {
        guard let gauge = activeGauges[state], delta != 0 else { return }
        let value = activeCounts.withLock { counts -> Int in
            counts[state, default: 0] += delta
            return counts[state]!
        }
        gauge.record(value)
    }

    public func active(_ state: EscalationState) -> Int { activeCounts.withLock { $0[state, default: 0] } }

    // The lists above name today's types and commands; one added later is still counted,
    // through the factory, rather than dropped.
    func emitted(_ type: String) {
        (events[type] ?? Counter(label: "helpdesk_escalation_events_total", dimensions: [("type", type)])).increment()
    }

    func refusedCommand(_ command: String) {
        (refusals[command] ?? Counter(label: "helpdesk_escalation_commands_refused_total", dimensions: [("command", command)])).increment()
    }

    /// A customer CC or a breach that found an escalation already running.
    func ignoredRequest(_ channel: EscalationChannel) { ignored[channel]?.increment() }
}
