import Foundation
import HelpdeskModel
import Hummingbird
import HummingbirdTesting
import KafkaTransport
import Logging
import MessageBus
import ServiceRuntime
import SLATimerService
import Testing
import TestSupport

/// The sla-timer built through its seam on Kafka (librdkafka's mock cluster): status reads are
/// answered by the long-lived clients the service made at start, never by a client per request.
@Suite("sla-timer status reads on Kafka", .serialized)
struct SLAStatusOnKafkaTests {
    static let token = "board-token-0123456789"

    @Test func aThousandStatusReadsMakeNoKafkaClient() async throws {
        var logger = Logger(label: "status-on-kafka")
        logger.logLevel = .critical
        let cluster = try MockKafkaCluster(brokers: 1, logger: logger)
        defer { cluster.shutdown() }
        for topic in SLATimerPartition.topics { try cluster.createTopic(topic, partitions: 3) }
        // Clients are counted by `client.id`: other suites run in this process at the same time.
        let clientID = "status-reads-\(UUID().uuidString)"
        let bus = KafkaBus(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, [
            "client.id": clientID, "session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "topic.metadata.refresh.interval.ms": "1000",
        ]), logger: logger)

        // 200 clocks in the changelog, due days from now: no timer fires while the reads run.
        let opened = Date().addingTimeInterval(-60)
        var keys = [String]()
        var seeded = [OutgoingRecord]()
        for number in 0..<200 {
            let ticket = TicketInputs("CRM-\(number)")
            let driver = PartitionDriver()
            _ = try driver.handle(ticket.classified(.minor, openedAt: opened))
            let key = ticket.ticketId.rawValue
            keys.append(key)
            seeded.append(OutgoingRecord(topic: Topics.slaTimerChangelog, key: key, value: driver.state.changelogValue(forKey: key)))
        }
        let publisher = try bus.makePublisher()
        _ = try await publisher.publish(seeded)
        await publisher.close()

        var dependencies = ServiceDependencies(
            serviceName: SLATimerPartition.service, defaultHTTPPort: 0,
            environment: ["SLA_API_TOKENS": "board=\(Self.token)", "HTTP_PORT": "0", "KAFKA_BOOTSTRAP_SERVERS": cluster.bootstrapServers],
            bus: bus)
        dependencies.logger = logger
        let service = try buildSLATimer(dependencies)
        let group = service.group
        let readiness = service.readiness
        let running = Task { try await group.run() }
        let ids = keys
        try await Application(router: service.router).test(.router) { client in
            try await eventually("the sla-timer is ready", timeout: 60) { readiness.failing().isEmpty }
            let headers: HTTPFields = [.authorization: "Bearer \(Self.token)"]
            // The first read makes the broker-query client, once.
            try await eventually("the first read answers", timeout: 30) {
                (try? await client.execute(uri: "/v1/sla/\(ids[0])", method: .get, headers: headers).status) == .ok
            }
            let before = KafkaClients.madeSoFar(clientID: clientID)
            var answered = 0
            for read in 0..<1_000 {
                let response = try await client.execute(uri: "/v1/sla/\(ids[read % ids.count])", method: .get, headers: headers)
                if response.status == .ok { answered += 1 }
            }
            #expect(answered == 1_000)
            #expect(KafkaClients.madeSoFar(clientID: clientID) == before, "no Kafka client made on a request path")
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

/// Polls `condition` until it holds, failing after `timeout` seconds (a guard against hangs).
func eventually(_ what: String, timeout: Double, _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(timeout)
    while await !condition() {
        guard ContinuousClock.now < deadline else { throw HarnessTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(50))
    }
}
