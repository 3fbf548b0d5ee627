import Foundation
import HelpdeskModel
import ServiceRuntime
import SLATimerService

// sla-timer: tickets.classified + tickets.activity → sla.events, notifications; state in sla-timer.changelog.
do {
    try await ServiceHost.run(serviceName: SLATimerPartition.service, defaultHTTPPort: 8083) { context, reader in
        let policy = reader.policy()
        let metrics = SLATimerMetrics()
        let status = SLAStatusController(bus: context.bus, policy: policy)
        return ServiceParts(
            consumption: .stateful(
                .init(group: "sla-timer", inputs: [Topics.classified, Topics.activity],
                      changelog: Topics.slaTimerChangelog, output: Topics.slaEvents,
                      instanceID: context.configuration.kafka.properties["group.instance.id"]),
                makeState: { SLATimerPartition(partition: $0, policy: policy, metrics: metrics) }),
            routes: { status.addRoutes(to: $0) })
    }
} catch {
    FileHandle.standardError.write(Data("sla-timer: \(error)\n".utf8))
    exit(1)
}
