import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import Logging
import MessageBus
import ServiceRuntime
import SLATimerService

#if canImport(Glibc)
import Glibc
#endif

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
            let sorted = values.sorted()
            return String(format: "%.2f", sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000)
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

/// One keep-alive HTTP/1.1 connection on loopback, for timing requests without a client library's overhead.
final class LoopbackHTTP {
    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CLIError("cannot connect to 127.0.0.1:\(port)") }
    }

    /// Sends a GET and reads the whole response; returns its status.
    func get(_ path: String, bearer: String) throws -> Int {
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(bearer)\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw CLIError("send failed")
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw CLIError("the connection closed") }
            received += buffer[..<count]
            guard let headerEnd = received.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: received[..<headerEnd.lowerBound], as: UTF8.self)
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if received.count - headerEnd.upperBound >= length {
                return Int(head.split(separator: " ")[1]) ?? 0
            }
        }
    }

    func close() { Glibc.close(socket) }
}
