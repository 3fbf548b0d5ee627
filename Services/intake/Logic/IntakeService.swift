import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// Intake, built on `dependencies`' broker and clock: tickets.inbound → tickets.received /
/// tickets.activity / tickets.rejected, and the HTTP API that writes to tickets.inbound.
public func buildIntake(_ dependencies: ServiceDependencies) throws -> BuiltService {
    let reader = dependencies.reader
    let eligibility: Eligibility
    var eligibilityNotice: String?
    if let path = reader.optionalString("INTAKE_ORGANIZATIONS_FILE") {
        do {
            eligibility = try Eligibility.load(yaml: try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            reader.fail("INTAKE_ORGANIZATIONS_FILE=\(path): \(error)")
            eligibility = .sample
        }
    } else {
        eligibilityNotice = "INTAKE_ORGANIZATIONS_FILE is not set: using the built-in sample organizations"
        eligibility = .sample
    }
    var keys = APIKeys([])
    do {
        keys = try APIKeys.parse(reader.optionalString("INTAKE_API_KEYS") ?? "")
    } catch {
        reader.fail("\(error)")
    }
    let outlookMaxAge = Duration.seconds(reader.int("INTAKE_OUTLOOK_MAX_AGE_SECONDS", default: 300, range: 1...86_400))
    let window = InstantWindow(maxPast: .seconds(3600 * reader.int("INTAKE_MAX_PAST_HOURS", default: 168, range: 1...87_600)))
    return try buildService(dependencies) { context in
        if let eligibilityNotice { context.logger.notice("\(eligibilityNotice)") }
        if keys.isEmpty { context.logger.warning("INTAKE_API_KEYS is empty: the HTTP API refuses every request") }
        let publisher = context.publisher
        // The forecaster's outlook, for what a new ticket's answer says of its first response.
        let outlook = ChangelogView(topic: Topics.forecastChangelog, bus: context.bus, queries: context.queries,
                                    keys: [ForecastOutlook.key], required: false, logger: context.logger)
        let api = IntakeAPI(
            keys: keys, sink: PublisherSink(publisher: publisher) { publisher.isReachable },
            eligibility: eligibility, window: window, outlook: FirstResponseOutlook(view: outlook, maxAge: outlookMaxAge),
            now: context.clock.now, logger: context.logger)
        return ServiceParts(
            source: .init(group: ConsumerGroups.intake, topics: [Topics.inbound],
                          instanceID: context.configuration.kafka.properties["group.instance.id"]),
            processor: IntakeProcessor(eligibility: eligibility, window: window, now: context.clock.now),
            routes: { api.addRoutes(to: $0) },
            services: [outlook])
    }
}
