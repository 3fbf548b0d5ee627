import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The sla-timer, built on `dependencies`' broker and clock: tickets.classified +
/// tickets.activity → sla.events, notifications; state in sla-timer.changelog; `GET /v1/sla/{id}`.
public func buildSLATimer(_ dependencies: ServiceDependencies) throws -> BuiltService {
    let reader = dependencies.reader
    let policy = reader.policy()
    let standard = LateInputHold.Settings.standard
    let lateInput = LateInputHold.Settings(
        threshold: .milliseconds(reader.int("SLA_LATE_INPUT_THRESHOLD_MS", default: standard.threshold.milliseconds,
                                            range: 0...3_600_000)),
        maxHold: .milliseconds(reader.int("SLA_LATE_INPUT_MAX_HOLD_MS", default: standard.maxHold.milliseconds,
                                          range: 0...86_400_000)))
    // SLATimerPartition.upstream with what the environment sets; the rest as it is defined there.
    var intake = SLATimerPartition.upstream
    let upstreamMaxWait = reader.int("SLA_UPSTREAM_MAX_WAIT_MS", default: intake.maxWait.milliseconds, range: 0...86_400_000)
    let upstream: Upstream?
    if upstreamMaxWait == 0 {
        upstream = nil
    } else {
        intake.maxWait = .milliseconds(upstreamMaxWait)
        intake.pollInterval = .milliseconds(reader.int("SLA_UPSTREAM_POLL_MS", default: intake.pollInterval.milliseconds,
                                                       range: 1...10_000))
        upstream = intake
    }
    var tokens = NamedSecrets([])
    do {
        tokens = try NamedSecrets.parse(reader.optionalString("SLA_API_TOKENS") ?? "", variable: "SLA_API_TOKENS")
    } catch {
        reader.fail("\(error)")
    }
    return try buildService(dependencies) { context in
        if tokens.isEmpty { context.logger.warning("SLA_API_TOKENS is empty: GET /v1/sla/{ticketId} refuses every request") }
        let metrics = SLATimerMetrics()
        let view = ChangelogView(topic: Topics.slaTimerChangelog, bus: context.bus, queries: context.queries, logger: context.logger)
        let status = SLAStatusController(clocks: ChangelogClocks(view: view), policy: policy, tokens: tokens, now: context.clock.now)
        return ServiceParts(
            consumption: .stateful(
                .init(group: ConsumerGroups.slaTimer, inputs: [Topics.classified, Topics.activity],
                      changelog: Topics.slaTimerChangelog, output: Topics.slaEvents,
                      instanceID: context.configuration.kafka.properties["group.instance.id"], upstream: upstream,
                      gates: { _ in [LateInputGate(lateInput, metrics: metrics)] }),
                makeState: { SLATimerPartition(partition: $0, policy: policy, metrics: metrics) }),
            routes: { status.addRoutes(to: $0) },
            services: [view])
    }
}
