import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// The forecaster, built on `dependencies`' broker and clock: sla-timer.changelog +
/// staffing.events (followed whole, by every instance) → sla.forecast, notifications and
/// forecast.changelog (by the active instance: the one `forecast.leader`'s partition 0 is
/// assigned to). docs/architecture.md#forecaster. Tests pass `leadership` to see which instance is active.
public func buildForecaster(_ dependencies: ServiceDependencies, leadership: Leadership? = nil) throws -> BuiltService {
    let reader = dependencies.reader
    let policy = reader.policy()
    var settings = ForecastRunner.Settings()
    settings.interval = .milliseconds(reader.int("FORECAST_INTERVAL_MS", default: 1_000, range: 10...60_000))
    settings.refresh = .seconds(reader.int("FORECAST_REFRESH_SECONDS", default: 60, range: 1...3_600))
    return try buildService(dependencies) { context in
        let leadership = leadership ?? Leadership(logger: context.logger)
        let follower = DeskFollower(policy: policy, bus: context.bus, queries: context.queries, logger: context.logger)
        context.readiness.add(ReadinessCheck("forecast-caught-up")) { follower.snapshot.isCaughtUp }
        let runner = ForecastRunner(
            follower: follower, leadership: leadership, bus: context.bus, queries: context.queries, publisher: context.publisher,
            policy: policy, settings: settings, now: context.clock.now, logger: context.logger)
        return ServiceParts(
            consumption: .stateless(
                .init(group: ConsumerGroups.forecaster, topics: [Topics.forecastLeader],
                      instanceID: context.configuration.kafka.properties["group.instance.id"]),
                leadership),
            routes: { router in OpenAPIRoute.add(PackageResources.openapi_yaml, to: router) },
            services: [follower, runner])
    }
}
