import Foundation
import HelpdeskModel
import EscalationService
import ServiceRuntime

// escalation: tickets.classified + tickets.activity + sla.events + escalation.commands + tickets.rejected + docs.feedback
// → escalation.events, notifications; state in escalation.changelog.
do {
    try await ServiceHost.run(serviceName: EscalationPartition.service, defaultHTTPPort: 8084) { context, reader in
        let policy = reader.policy()
        let hold = Duration.milliseconds(reader.int(
            "ESCALATION_HOLD_MS", default: Int(EscalationPartition.standardHold / .milliseconds(1)), range: 0...86_400_000))
        let metrics = EscalationMetrics()
        var tokens = EscalationTokens([])
        do {
            tokens = try EscalationTokens.parse(reader.optionalString("ESCALATION_TOKENS") ?? "")
        } catch {
            reader.fail("\(error)")
        }
        if tokens.isEmpty {
            context.logger.warning("ESCALATION_TOKENS is empty: every escalation API request will be refused with 401")
        }
        let api = EscalationAPI(
            tokens: tokens, repository: ChangelogEscalations(bus: context.bus),
            sink: PublisherSink(publisher: context.publisher) { !context.readiness.failing().contains("kafka-reachable") })
        return ServiceParts(
            consumption: .stateful(
                .init(group: ConsumerGroups.escalation,
                      inputs: [Topics.classified, Topics.activity, Topics.slaEvents, Topics.escalationCommands,
                               Topics.rejected, Topics.docsFeedback],
                      changelog: Topics.escalationChangelog, output: Topics.escalationEvents,
                      instanceID: context.configuration.kafka.properties["group.instance.id"]),
                makeState: { EscalationPartition(partition: $0, policy: policy, metrics: metrics, hold: hold) }),
            routes: { api.addRoutes(to: $0) })
    }
} catch {
    FileHandle.standardError.write(Data("escalation: \(error)\n".utf8))
    exit(1)
}
