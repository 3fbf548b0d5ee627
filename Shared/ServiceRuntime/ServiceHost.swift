import Foundation
import Hummingbird
import KafkaTransport
import Logging
import MessageBus
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

/// What a service is built from: its configuration, a broker, a clock. `main` passes Kafka and
/// the system clock (`ServiceHost.run`); tests pass the in-memory broker and a virtual clock.
public struct ServiceDependencies {
    public var configuration: ServiceConfiguration
    public var reader: SettingsReader
    public var bus: any MessageBus
    public var clock: any WallClock
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger
    /// Signals that shut the service down gracefully; none in tests.
    public var signals: [UnixSignal]

    public init(
        configuration: ServiceConfiguration, reader: SettingsReader, bus: any MessageBus, clock: any WallClock,
        registry: PrometheusCollectorRegistry, logger: Logger, signals: [UnixSignal]
    ) {
        self.configuration = configuration
        self.reader = reader
        self.bus = bus
        self.clock = clock
        self.registry = registry
        self.logger = logger
        self.signals = signals
    }

    /// The service's settings from `environment`, on `bus` and `clock`: what tests build services with.
    public init(
        serviceName: String, defaultHTTPPort: Int, environment: [String: String], bus: any MessageBus,
        clock: any WallClock = SystemWallClock(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) {
        let reader = SettingsReader(environment)
        self.init(
            configuration: ServiceConfiguration(serviceName: serviceName, reader: reader, defaultHTTPPort: defaultHTTPPort),
            reader: reader, bus: bus, clock: clock, registry: registry, logger: Logger(label: serviceName), signals: [])
    }
}

/// What a service's wiring gets to build its parts from.
public struct ServiceContext: Sendable {
    public let configuration: ServiceConfiguration
    public let bus: any MessageBus
    public let publisher: any RecordPublisher
    /// The service's one client for questions about the cluster.
    public let queries: any BrokerQueries
    public let readiness: Readiness
    public let clock: any WallClock
    public let logger: Logger
}

/// How a service consumes: record by record without state, or owning per-partition state.
public enum Consumption: Sendable {
    case stateless(ProcessingLoop.Source, any RecordProcessor)
    case stateful(StatefulProcessingLoop.Source, makeState: @Sendable (Int32) -> any PartitionState)
    /// Records handled concurrently, each in its own time (`ConcurrentProcessingLoop`).
    case concurrent(ProcessingLoop.Source, any RecordProcessor, ConcurrencySettings, outputs: [String])
    /// Each poll's records kept together (`BatchProcessingLoop`): a projector's database writes.
    case batched(ProcessingLoop.Source, any BatchProcessor)
}

/// What a service contributes: how it consumes, HTTP routes, and any further long-running
/// services (read models).
public struct ServiceParts: Sendable {
    public var consumption: Consumption
    public var routes: @Sendable (Router<ServiceRequestContext>) -> Void
    public var services: [any Service]

    public init(
        consumption: Consumption, routes: @escaping @Sendable (Router<ServiceRequestContext>) -> Void = { _ in },
        services: [any Service] = []
    ) {
        self.consumption = consumption
        self.routes = routes
        self.services = services
    }

    public init(
        source: ProcessingLoop.Source, processor: any RecordProcessor,
        routes: @escaping @Sendable (Router<ServiceRequestContext>) -> Void = { _ in }, services: [any Service] = []
    ) {
        self.init(consumption: .stateless(source, processor), routes: routes, services: services)
    }
}

/// A service ready to run: one `ServiceGroup` with every long-running piece, and its router
/// (which tests can drive without a socket).
public struct BuiltService {
    public let group: ServiceGroup
    public let router: Router<ServiceRequestContext>
    public let readiness: Readiness
}

/// Builds a service from its dependencies and the parts it contributes: the producer and the
/// broker-query client, the processing loop, HTTP, in one group. Shutdown runs in reverse
/// order: the loop drains and commits first, then the read models and HTTP, then the clients.
/// Throws `ConfigurationError` listing every bad setting.
public func buildService(
    _ dependencies: ServiceDependencies, makeParts: (ServiceContext) throws -> ServiceParts
) throws -> BuiltService {
    let configuration = dependencies.configuration
    let name = configuration.serviceName
    let logger = dependencies.logger
    let publisher = try dependencies.bus.makePublisher()
    let queries: any BrokerQueries
    let parts: ServiceParts
    let readiness = Readiness()
    do {
        queries = try dependencies.bus.makeQueries()
        let context = ServiceContext(
            configuration: configuration, bus: dependencies.bus, publisher: publisher, queries: queries,
            readiness: readiness, clock: dependencies.clock, logger: logger)
        parts = try makeParts(context)
        try dependencies.reader.validate()
    } catch {
        // Nothing runs yet: the clients made so far are closed here, once.
        Task { await publisher.close() }
        throw error
    }
    let joined = ReadinessFlag()
    readiness.add(.kafkaGroupJoined) { joined.isSet }
    readiness.add(.kafkaReachable) { publisher.isReachable }
    let stall = StallWatch(after: configuration.processing.stallAfter)
    readiness.add(.processingProgressing) { !stall.isStalled }
    let bus = dependencies.bus
    let loop: any Service
    let membership: GroupMembership
    /// The group membership the service hosts for a loop that reads `source`.
    func hostedMembership(_ source: ProcessingLoop.Source) -> GroupMembership {
        GroupMembership(
            bus: bus, group: source.group, topics: source.topics, instanceID: source.instanceID, joined: joined,
            logger: logger, hosted: true)
    }
    switch parts.consumption {
    case .stateless(let source, let processor):
        membership = hostedMembership(source)
        loop = ProcessingLoop(
            service: name, bus: bus, source: source, publisher: publisher, processor: processor,
            settings: configuration.processing, joined: joined, stall: stall, membership: membership, logger: logger,
            now: dependencies.clock.now)
    case .concurrent(let source, let processor, let concurrency, let outputs):
        membership = hostedMembership(source)
        loop = ConcurrentProcessingLoop(
            service: name, source: source, publisher: publisher, processor: processor, settings: configuration.processing,
            concurrency: concurrency, outputTopics: outputs, joined: joined, stall: stall, membership: membership,
            logger: logger, now: dependencies.clock.now)
    case .batched(let source, let processor):
        membership = hostedMembership(source)
        loop = BatchProcessingLoop(
            service: name, membership: membership, publisher: publisher, processor: processor,
            settings: configuration.processing, joined: joined, stall: stall, logger: logger, now: dependencies.clock.now)
    case .stateful(let source, let makeState):
        membership = GroupMembership(
            bus: bus, group: source.group, topics: source.inputs, instanceID: source.instanceID, joined: joined,
            logger: logger, hosted: true
        ) { try await StatefulProcessingLoop.checkCoPartitioning(source, of: name, on: bus) }
        loop = StatefulProcessingLoop(
            service: name, bus: bus, queries: queries, source: source, publisher: publisher,
            settings: configuration.processing, clock: dependencies.clock, joined: joined, stall: stall,
            membership: membership, logger: logger, makeState: makeState)
    }
    let router = buildRouter(readiness: readiness, registry: dependencies.registry, addRoutes: parts.routes)
    let application = buildApplication(
        router: router, host: configuration.httpHost, port: configuration.httpPort, serviceName: name,
        limits: configuration.httpLimits, logger: logger)
    // The Kafka clients: the producer and the queries close last, the consumer (the membership)
    // once the loop and HTTP have stopped.
    let clients: [any Service] = [
        ClosingService { await publisher.close() }, ClosingService { await queries.close() }, membership,
    ]
    let group = ServiceGroup(
        configuration: .init(
            services: (clients + [application] + parts.services).map { .init(service: $0) }
                + [.init(service: loop, successTerminationBehavior: .gracefullyShutdownGroup,
                         failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: dependencies.signals,
            logger: logger))
    return BuiltService(group: group, router: router, readiness: readiness)
}

/// A client (producer, broker queries) as a `Service`: it runs until the group shuts down,
/// then closes the client, after every service listed after it has ended.
public struct ClosingService: Service {
    let close: @Sendable () async -> Void

    public init(close: @escaping @Sendable () async -> Void) { self.close = close }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}

/// Runs one service executable: reads the environment, bootstraps logging and metrics, builds
/// the service on Kafka and runs its group until SIGTERM or SIGINT (stop consuming, finish the
/// batch in hand, commit, leave the group, flush the producer).
public enum ServiceHost {
    public static func run(
        serviceName: String, defaultHTTPPort: Int,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        build: (ServiceDependencies) throws -> BuiltService
    ) async throws {
        let reader = SettingsReader(environment)
        let configuration = ServiceConfiguration(serviceName: serviceName, reader: reader, defaultHTTPPort: defaultHTTPPort)
        ServiceLogging.bootstrap(level: configuration.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: serviceName)
        let service = try build(ServiceDependencies(
            configuration: configuration, reader: reader, bus: KafkaBus(configuration: configuration.kafka, logger: logger),
            clock: SystemWallClock(), registry: registry, logger: logger, signals: [.sigterm, .sigint]))
        logger.info(
            "starting", metadata: ["kafka": "\(configuration.kafka.redacted.sorted { $0.key < $1.key })",
                                   "httpPort": "\(configuration.httpPort)"])
        defer { logger.info("stopped") }
        try await service.group.run()
    }
}
