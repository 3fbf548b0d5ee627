import Foundation
import HelpdeskModel
import Hummingbird
import Logging
import HummingbirdTesting
import MessageBus
import ServiceRuntime
import SLATimerService
import Testing
import TestSupport

@Suite("sla-timer status API")
struct SLAStatusTests {
    static let token = "board-token-0123456789"
    static let auth: HTTPFields = [.authorization: "Bearer \(token)"]

    @Test func readingAClockNeedsAToken() async throws {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: APIFailureMiddleware())
        SLAStatusController(clocks: NoClocks(), policy: .standard, tokens: NamedSecrets([("board", Self.token)]))
            .addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            for (headers, code) in [([:], "missing_token"), ([.authorization: "Bearer \(Self.token)x"], "invalid_token")] as [(HTTPFields, String)] {
                try await client.execute(uri: "/v1/sla/tk_000000000000000000000000", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains(code))
                }
            }
        }
    }

    @Test func theOpenAPIDocumentIsServedAsDocsHaveItAndOtherMethodsAre405() async throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/sla-timer.openapi.yaml")
        let onDisk = try String(contentsOf: docs, encoding: .utf8)
        let router = Router(context: ServiceRequestContext.self)
        SLAStatusController(clocks: NoClocks(), policy: .standard, tokens: NamedSecrets([("board", Self.token)])).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == onDisk)
            }
            try await client.execute(uri: "/v1/sla/tk_000000000000000000000000", method: .delete) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
            }
        }
    }

    @Test func anyInstanceAnswersATicketsClockFromTheChangelog() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        broker.createTopic(Topics.slaTimerChangelog, partitions: 6)
        let ticket = TicketInputs("CRM-1042")
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.classified(.critical, openedAt: at("2026-01-13T16:00:00Z")))
        _ = driver.fire(at("2026-01-13T16:45:00Z"))
        let key = ticket.ticketId.rawValue
        _ = try await broker.makePublisher().publish(OutgoingRecord(
            topic: Topics.slaTimerChangelog, key: key, value: driver.state.changelogValue(forKey: key)))

        let view = ChangelogView(topic: Topics.slaTimerChangelog, bus: broker, queries: try broker.makeQueries(),
                                 logger: Logger(label: "test"))
        let following = Task { try await view.run() }
        defer { following.cancel() }
        try await eventually("the view follows the changelog") { view.isFollowing }
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: APIFailureMiddleware())
        SLAStatusController(clocks: ChangelogClocks(view: view), policy: .standard, tokens: NamedSecrets([("board", Self.token)]),
                            now: { at("2026-01-13T16:50:00Z") }).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v1/sla/\(key)", method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
                let status = try WireJSON.decode(SLAClockStatus.self, from: Array(response.body.readableBytesView))
                #expect(status.state == .running)
                #expect(status.severity == .critical)
                #expect(status.dueAt == at("2026-01-13T17:00:00Z"))
                #expect(status.warned)
                #expect(status.remainingBusinessSeconds == 600)
                #expect(status.externalId == "CRM-1042")
            }
            try await client.execute(uri: "/v1/sla/tk_000000000000000000000000", method: .get, headers: Self.auth) { response in
                #expect(response.status == .notFound)
                let body = try JSONParser.parse(Array(response.body.readableBytesView))
                guard case .object(let members) = body else { throw HarnessTimeout(what: "a JSON object") }
                #expect(members["error"] == .string("unknown_ticket"))
            }
        }
    }
}

extension SLAStatusTests {
    @Test func theStatusListsEveryMetricWithThePlan() async throws {
        let policy = SLATimerMetricsPartitionTests.policy
        let ticket = TicketInputs("CRM-3001")
        let driver = PartitionDriver(policy: policy)
        let opened = at("2026-03-09T16:00:00Z")  // Monday 10:00 MDT
        _ = try driver.handle(ticket.classified(.critical, openedAt: opened))
        _ = try driver.handle(ticket.agentReply(at: at("2026-03-09T16:10:00Z")))
        _ = try driver.handle(ticket.agentReply(at: at("2026-03-09T16:20:00Z"), role: .customer))
        _ = try driver.handle(ticket.statusChanged(to: .pending, at: at("2026-03-09T17:00:00Z")))
        let value = driver.state.changelogValue(forKey: ticket.ticketId.rawValue)
        let status = try #require(try SLAStatusLookup.status(changelogValue: value, policy: policy, now: at("2026-03-09T18:00:00Z")))
        #expect(status.state == .met && status.plan == nil)
        let metrics = try #require(status.metrics)
        #expect(metrics.map(\.metric) == [.resolution, .nextReply])
        // Paused at 11:00 after an hour: 7 of the 8 business hours left when it resumes.
        #expect(metrics[0].state == .paused && metrics[0].dueAt == nil && metrics[0].remainingBusinessSeconds == 7 * 3600)
        #expect(metrics[1].instance == 1 && metrics[1].state == .paused)
        #expect(metrics[1].pausedAt == at("2026-03-09T17:00:00Z"))
        // The JSON names them as the OpenAPI document does.
        let json = String(decoding: try WireJSON.encode(status), as: UTF8.self)
        #expect(json.contains(#""metrics":[{"#) && json.contains(#""metric":"nextReply""#) && json.contains(#""instance":1"#))
    }
}

struct NoClocks: SLAClockRepository {
    func changelogValue(of ticketId: String) async throws -> [UInt8]? { nil }
}
