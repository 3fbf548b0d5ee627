import Foundation
import HelpdeskModel
import ServiceRuntime
import SLATimerService

// sla-timer: tickets.classified + tickets.activity → sla.events, notifications; state in sla-timer.changelog.
do {
    try await ServiceHost.run(serviceName: SLATimerPartition.service, defaultHTTPPort: 8083) { context, reader in
        let policy = reader.policy()
        let standard = LateInputHold.Settings.standard
        let lateInput = LateInputHold.Settings(
            threshold: .milliseconds(reader.int("SLA_LATE_INPUT_THRESHOLD_MS", default: Int(standard.threshold / .milliseconds(1)),
                                                range: 0...3_600_000)),
            maxHold: .milliseconds(reader.int("SLA_LATE_INPUT_MAX_HOLD_MS", default: Int(standard.maxHold / .milliseconds(1)),
                                              range: 0...86_400_000)))
        // SLATimerPartition.upstream with what the environment sets; the rest as it is defined there.
        var intake = SLATimerPartition.upstream
        let upstreamMaxWait = reader.int("SLA_UPSTREAM_MAX_WAIT_MS", default: Int(intake.maxWait / .milliseconds(1)),
                                         range: 0...86_400_000)
        let upstream: Upstream?
        if upstreamMaxWait == 0 {
            upstream = nil
        } else {
            intake.maxWait = .milliseconds(upstreamMaxWait)
            intake.pollInterval = .milliseconds(reader.int("SLA_UPSTREAM_POLL_MS", default: Int(intake.pollInterval / .milliseconds(1)),
                                                           range: 1...10_000))
            upstream = intake
        }
        let metrics = SLATimerMetrics()
        var tokens = NamedSecrets([])
        do {
            tokens = try NamedSecrets.parse(reader.optionalString("SLA_API_TOKENS") ?? "", variable: "SLA_API_TOKENS")
        } catch {
            reader.fail("\(error)")
        }
        if tokens.isEmpty { context.logger.warning("SLA_API_TOKENS is empty: GET /v1/sla/{ticketId} refuses every request") }
        let status = SLAStatusController(bus: context.bus, policy: policy, tokens: tokens)
        return ServiceParts(
            consumption: .stateful(
                .init(group: ConsumerGroups.slaTimer, inputs: [Topics.classified, Topics.activity],
                      changelog: Topics.slaTimerChangelog, output: Topics.slaEvents,
                      instanceID: context.configuration.kafka.properties["group.instance.id"], upstream: upstream),
                makeState: { SLATimerPartition(partition: $0, policy: policy, metrics: metrics, lateInput: lateInput) }),
            routes: { status.addRoutes(to: $0) })
    }
} catch {
    FileHandle.standardError.write(Data("sla-timer: \(error)\n".utf8))
    exit(1)
}
