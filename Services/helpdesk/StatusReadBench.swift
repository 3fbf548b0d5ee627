import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import Logging
import MessageBus
import ServiceRuntime
import SLATimerService

/// `helpdesk bench status`: a status read (`GET /v1/sla/{id}`) with many tickets in the
/// changelog, on the embedded broker. The sla-timer is built as `main` builds it and asked over
/// HTTP on loopback (one keep-alive connection); the per-request path of earlier releases (a
/// metadata client and a partition reader per request, scanning the key's partition from offset 0)
/// is timed beside it.
struct StatusReadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Measure status reads (GET /v1/sla/{id}) with many tickets in the changelog.")

    @Option(help: "Tickets in sla-timer.changelog (the embedded broker keeps ~5 MB per partition).")
    var tickets: Int = 100_000

    @Option(help: "Partitions of the topics (12 keeps 100,000 clocks within the embedded broker's limit).")
    var partitions: Int = 12

    @Option(help: "Status reads over HTTP.")
    var reads: Int = 2_000

    @Option(help: "Reads timed on the per-request path of earlier releases (each scans a partition).")
    var scanReads: Int = 100

    @Option(help: "The HTTP port the sla-timer listens on.")
    var port: Int = 18_483

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let cluster = try MockKafkaCluster(brokers: 1, logger: logger)
        defer { cluster.shutdown() }
        for topic in SLATimerPartition.topics { try cluster.createTopic(topic, partitions: partitions) }
        let clientID = "bench-status"
        let bus = KafkaBus(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers,
                                                             ["fetch.wait.max.ms": "10", "client.id": clientID]),
                           logger: logger)
        let keys = try await seed(bus: bus, logger: logger)

        // The earlier per-request path.
        var scans = [Double]()
        for read in 0..<scanReads {
            let started = ContinuousClock.now
            guard try await SLAStatusLookup.status(of: keys[(read * 7919) % keys.count], bus: bus, policy: .standard, now: Date()) != nil
            else { throw CLIError("a seeded clock was not found") }
            scans.append((ContinuousClock.now - started).timeInterval)
        }

        var dependencies = ServiceDependencies(
            serviceName: SLATimerPartition.service, defaultHTTPPort: port,
            environment: ["SLA_API_TOKENS": "bench=bench-token-0123456789", "HTTP_PORT": String(port)], bus: bus)
        dependencies.logger = logger
        let service = try buildSLATimer(dependencies)
        let group = service.group
        let readiness = service.readiness
        let running = Task { try await group.run() }
        let restoreStarted = ContinuousClock.now
        while !readiness.failing().isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let ready = (ContinuousClock.now - restoreStarted).timeInterval
        let clientsBefore = KafkaClients.madeSoFar(clientID: clientID)
        let connection = try LoopbackHTTP(port: port)
        var latencies = [Double]()
        for read in -50..<reads {
            let started = ContinuousClock.now
            let status = try connection.get("/v1/sla/\(keys[(abs(read) * 7919) % keys.count])", bearer: "bench-token-0123456789")
            guard status == 200 else { throw CLIError("status read answered \(status)") }
            if read >= 0 { latencies.append((ContinuousClock.now - started).timeInterval) }
        }
        let clientsMade = KafkaClients.madeSoFar(clientID: clientID) - clientsBefore
        connection.close()
        await group.triggerGracefulShutdown()
        try await running.value

        func ms(_ values: [Double], _ p: Double) -> String {
            values.percentile(p).map { String(format: "%.2f", $0 * 1000) } ?? "n/a"
        }
        print("status_tickets \(keys.count)")
        print("status_ready_s \(String(format: "%.1f", ready))")
        print("status_http_reads \(latencies.count)")
        print("status_http_p50_ms \(ms(latencies, 0.5))")
        print("status_http_p99_ms \(ms(latencies, 0.99))")
        print("status_http_clients_made \(clientsMade)")
        print("status_scan_reads \(scans.count)")
        print("status_scan_p50_ms \(ms(scans, 0.5))")
        print("status_scan_p99_ms \(ms(scans, 0.99))")
    }

    /// `tickets` minor clocks opened a minute ago (due days later: none fires while reads run).
    private func seed(bus: KafkaBus, logger: Logger) async throws -> [String] {
        let policy = SLAPolicy.standard
        let opened = Date().addingTimeInterval(-60)
        let producer = try KafkaProducer(configuration: bus.configuration, logger: logger)
        var keys = [String]()
        var batch = [OutgoingRecord]()
        for index in 0..<tickets {
            let ticket = TicketID(source: "crm", externalId: "CRM-\(index)")
            var clock = FirstResponseClock(ticketId: ticket, source: "crm", externalId: "CRM-\(index)")
            _ = clock.apply(.classified(severity: .minor, openedAt: opened, eventId: EventID.derive(["bench", String(index)])),
                            policy: policy)
            keys.append(ticket.rawValue)
            batch.append(OutgoingRecord(topic: Topics.slaTimerChangelog, key: ticket.rawValue, value: clock.changelogValue))
            if batch.count == 5_000 {
                _ = try await producer.publish(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        _ = try await producer.publish(batch)
        await producer.close()
        return keys
    }
}
