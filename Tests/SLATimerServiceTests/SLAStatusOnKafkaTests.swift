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
            "client.id": clientID, "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
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

/// The sla-timer built through its seam on the in-memory broker and a virtual clock.
@Suite("sla-timer through its build seam")
struct SLATimerSeamTests {
    @Test func topicsWithDifferentPartitionCountsStopTheServiceBeforeItJoins() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        broker.createTopic(Topics.classified, partitions: 6)
        broker.createTopic(Topics.activity, partitions: 4)
        let service = try buildSLATimer(ServiceDependencies(
            serviceName: SLATimerPartition.service, defaultHTTPPort: 0, environment: ["HTTP_PORT": "0"], bus: broker,
            clock: VirtualWallClock(Date(timeIntervalSince1970: 1_800_000_000))))
        let error = await #expect(throws: ConfigurationError.self) { try await service.group.run() }
        #expect(error?.description.contains("tickets.activity (4 partitions)") == true)
        #expect(!service.readiness.passes(.kafkaGroupJoined))
    }

    @Test func aClassifiedTicketStartsItsClockAndTheServiceLeavesItsGroupOnShutdown() async throws {
        let start = Date(timeIntervalSince1970: 1_773_072_000)  // 2026-03-09T16:00:00Z, a Monday 09:00 in Denver
        let clock = VirtualWallClock(start)
        let broker = InMemoryBroker(.init(defaultPartitions: 3, now: clock.now))
        for topic in SLATimerPartition.topics { broker.createTopic(topic, partitions: 3) }
        let service = try buildSLATimer(ServiceDependencies(
            serviceName: SLATimerPartition.service, defaultHTTPPort: 0, environment: ["HTTP_PORT": "0"], bus: broker, clock: clock))
        let group = service.group
        let readiness = service.readiness
        let running = Task { try await group.run() }
        try await TestSupport.eventually("the sla-timer joins its group", within: .seconds(60)) { readiness.passes(.kafkaGroupJoined) }
        _ = try await broker.makePublisher().publish(TicketInputs("CRM-1").classified(.critical, openedAt: start))
        try await TestSupport.eventually("the clock starts") { !broker.records(in: Topics.slaEvents).isEmpty }
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(!readiness.passes(.kafkaGroupJoined), "the membership left the group")
        // A second member now gets every partition at once: nobody else holds them.
        let next = try await broker.subscribe(group: ConsumerGroups.slaTimer, topics: [Topics.classified, Topics.activity])
        let events = try await next.poll(max: 10)
        guard case .assigned(let partitions) = events.first else { Issue.record("no assignment: \(events)"); return }
        #expect(partitions.count == 6, "both inputs' three partitions")
        try await next.close()
    }
}
