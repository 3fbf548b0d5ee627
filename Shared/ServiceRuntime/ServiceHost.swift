import Foundation
import Hummingbird
import KafkaTransport
import Logging
import MessageBus
import Metrics
import Prometheus
import ServiceLifecycle

/// What a service's wiring gets to build its parts from.
public struct ServiceContext: Sendable {
    public let configuration: ServiceConfiguration
    public let bus: any MessageBus
    public let publisher: any RecordPublisher
    public let readiness: Readiness
    public let logger: Logger
}

/// How a service consumes: record by record without state, or owning per-partition state.
public enum Consumption: Sendable {
    case stateless(ProcessingLoop.Source, any RecordProcessor)
    case stateful(StatefulProcessingLoop.Source, makeState: @Sendable (Int32) -> any PartitionState)
}

/// What a service contributes: how it consumes, HTTP routes, and any further long-running
/// services (read models).
public struct ServiceParts: Sendable {
    public var consumption: Consumption
    public var routes: @Sendable (Router<BasicRequestContext>) -> Void
    public var services: [any Service]

    public init(
        consumption: Consumption, routes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in },
        services: [any Service] = []
    ) {
        self.consumption = consumption
        self.routes = routes
        self.services = services
    }

    public init(
        source: ProcessingLoop.Source, processor: any RecordProcessor,
        routes: @escaping @Sendable (Router<BasicRequestContext>) -> Void = { _ in }, services: [any Service] = []
    ) {
        self.init(consumption: .stateless(source, processor), routes: routes, services: services)
    }
}

/// Runs one service executable: reads the environment, bootstraps logging and metrics,
/// connects to Kafka, serves HTTP, and runs everything in one `ServiceGroup` that shuts down
/// gracefully on SIGTERM or SIGINT (stop consuming, finish the batch in hand, commit, leave
/// the group, flush the producer).
public enum ServiceHost {
    public static func run(
        serviceName: String, defaultHTTPPort: Int,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        makeParts: (ServiceContext, EnvironmentReader) throws -> ServiceParts
    ) async throws {
        let reader = EnvironmentReader(environment)
        let configuration = ServiceConfiguration(serviceName: serviceName, reader: reader, defaultHTTPPort: defaultHTTPPort)
        ServiceLogging.bootstrap(level: configuration.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: serviceName)

        let bus = KafkaBus(configuration: configuration.kafka, logger: logger)
        let producer = try KafkaProducer(configuration: configuration.kafka, logger: logger)
        let readiness = Readiness()
        let context = ServiceContext(
            configuration: configuration, bus: bus, publisher: producer, readiness: readiness, logger: logger)
        let parts: ServiceParts
        do {
            parts = try makeParts(context, reader)
            try reader.validate()
        } catch {
            await producer.close()
            throw error
        }
        logger.info(
            "starting", metadata: ["kafka": "\(configuration.kafka.redacted.sorted { $0.key < $1.key })",
                                   "httpPort": "\(configuration.httpPort)"])

        let joined = ReadinessFlag()
        readiness.add("kafka-group-joined") { joined.isSet }
        readiness.add("kafka-reachable") { producer.health.isReachable }
        let stall = StallWatch(after: configuration.processing.stallAfter)
        readiness.add("processing-progressing") { !stall.isStalled }
        let loop: any Service
        switch parts.consumption {
        case .stateless(let source, let processor):
            loop = ProcessingLoop(
                service: serviceName, bus: bus, source: source, publisher: producer, processor: processor,
                settings: configuration.processing, joined: joined, stall: stall, logger: logger)
        case .stateful(let source, let makeState):
            loop = StatefulProcessingLoop(
                service: serviceName, bus: bus, source: source, publisher: producer,
                settings: configuration.processing, joined: joined, stall: stall, logger: logger, makeState: makeState)
        }
        let router = buildRouter(readiness: readiness, registry: registry, addRoutes: parts.routes)
        let application = buildApplication(
            router: router, host: configuration.httpHost, port: configuration.httpPort, serviceName: serviceName,
            limits: configuration.httpLimits, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                // Shutdown runs in reverse order: the loop drains and commits first, HTTP goes last.
                services: [.init(service: application)] + parts.services.map { .init(service: $0) }
                    + [.init(service: loop, successTerminationBehavior: .gracefullyShutdownGroup,
                             failureTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        defer { logger.info("stopped") }
        do {
            try await group.run()
        } catch {
            await producer.close()
            throw error
        }
        await producer.close()
    }
}
