import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The escalation service, built on `dependencies`' broker and clock: tickets.classified +
/// tickets.activity + sla.events + escalation.commands + tickets.rejected + docs.feedback →
/// escalation.events, notifications; state in escalation.changelog; the escalation API.
public func buildEscalation(_ dependencies: ServiceDependencies) throws -> BuiltService {
    let reader = dependencies.reader
    let policy = reader.policy()
    let hold = Duration.milliseconds(reader.int(
        "ESCALATION_HOLD_MS", default: EscalationPartition.standardHold.milliseconds, range: 0...86_400_000))
    var tokens = EscalationTokens([])
    do {
        tokens = try EscalationTokens.parse(reader.optionalString("ESCALATION_TOKENS") ?? "")
    } catch {
        reader.fail("\(error)")
    }
    return try buildService(dependencies) { context in
        if tokens.isEmpty {
            context.logger.warning("ESCALATION_TOKENS is empty: every escalation API request will be refused with 401")
        }
        let metrics = EscalationMetrics()
        let view = ChangelogView(topic: Topics.escalationChangelog, bus: context.bus, queries: context.queries, logger: context.logger)
        let publisher = context.publisher
        let api = EscalationAPI(
            tokens: tokens, repository: ChangelogEscalations(view: view),
            sink: PublisherSink(publisher: publisher) { publisher.isReachable }, now: context.clock.now,
            logger: context.logger)
        return ServiceParts(
            consumption: .stateful(
                .init(group: ConsumerGroups.escalation,
                      inputs: [Topics.classified, Topics.activity, Topics.slaEvents, Topics.escalationCommands,
                               Topics.rejected, Topics.docsFeedback],
                      changelog: Topics.escalationChangelog, output: Topics.escalationEvents,
                      instanceID: context.configuration.kafka.properties["group.instance.id"]),
                makeState: { EscalationPartition(partition: $0, policy: policy, metrics: metrics, hold: hold) }),
            routes: { api.addRoutes(to: $0) },
            services: [view])
    }
}
