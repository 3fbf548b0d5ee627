import Foundation
import HelpdeskModel
import IntakeService
import ServiceRuntime

// intake: tickets.inbound → tickets.received / tickets.activity / tickets.rejected, plus the HTTP API.
do {
    try await ServiceHost.run(serviceName: IntakeProcessor.service, defaultHTTPPort: 8081) { context, reader in
        let eligibility: Eligibility
        if let path = reader.optionalString("INTAKE_ORGANIZATIONS_FILE") {
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                eligibility = try Eligibility.load(yaml: text)
            } catch {
                reader.fail("INTAKE_ORGANIZATIONS_FILE=\(path): \(error)")
                eligibility = .sample
            }
        } else {
            context.logger.notice("INTAKE_ORGANIZATIONS_FILE is not set: using the built-in sample organizations")
            eligibility = .sample
        }
        var keys = APIKeys([])
        do {
            keys = try APIKeys.parse(reader.optionalString("INTAKE_API_KEYS") ?? "")
        } catch {
            reader.fail("\(error)")
        }
        let window = InstantWindow(maxPast: .seconds(3600 * reader.int("INTAKE_MAX_PAST_HOURS", default: 168, range: 1...87_600)))
        if keys.isEmpty { context.logger.warning("INTAKE_API_KEYS is empty: the HTTP API refuses every request") }
        let api = IntakeAPI(
            keys: keys,
            sink: PublisherSink(publisher: context.publisher) { context.readiness.failing().contains("kafka-reachable") == false },
            eligibility: eligibility, window: window)
        return ServiceParts(
            source: .init(group: ConsumerGroups.intake, topics: [Topics.inbound], instanceID: context.configuration.kafka.properties["group.instance.id"]),
            processor: IntakeProcessor(eligibility: eligibility, window: window),
            routes: { router in api.addRoutes(to: router) })
    }
} catch {
    FileHandle.standardError.write(Data("intake: \(error)\n".utf8))
    exit(1)
}
