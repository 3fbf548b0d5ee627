import Foundation
import HelpdeskModel
import HistoryService
import HistoryStore
import Hummingbird
import HummingbirdTesting
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

/// The history service on the in-memory broker and a SQLite file: records in, rows and reports
/// out through the HTTP API; what is not an event is dead-lettered with its bytes.
@Suite("history service")
struct HistoryServiceTests {
    static let token = "history-reader-token-1"

    final class Harness: @unchecked Sendable {
        let broker = InMemoryBroker(defaultPartitions: 3)
        let folder = NSTemporaryDirectory() + "history-service-\(UUID().uuidString.prefix(8))"
        let service: BuiltService
        let store: SQLiteHistory

        init() throws {
            store = try SQLiteHistory(path: folder + "/history.sqlite")
            service = try buildHistory(ServiceDependencies(
                serviceName: HistoryProcessor.service, defaultHTTPPort: 0,
                environment: ["HTTP_PORT": "0", "HISTORY_API_TOKENS": "reports=\(HistoryServiceTests.token)"], bus: broker),
                repository: store)
        }

        func run(_ body: () async throws -> Void) async throws {
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await withRunningService(service, "the projector joins its group", body)
        }

        func publish(_ records: [OutgoingRecord]) async throws {
            _ = try await broker.makePublisher().publish(records)
        }

        func get(_ uri: String, token: String? = HistoryServiceTests.token) async throws -> (HTTPResponse.Status, String) {
            var fields = HTTPFields()
            if let token { fields[.authorization] = "Bearer \(token)" }
            let headers = fields
            return try await Application(router: service.router).test(.router) { client in
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    (response.status, String(buffer: response.body))
                }
            }
        }
    }

    static func received(_ ticket: TicketInputs, at time: Date) -> OutgoingRecord {
        ticket.record(Topics.received, emitter: "intake", cause: "in", at: time, TicketReceived(
            organizationId: "acme", subject: "Payroll down", description: nil, requester: nil, reportedSeverity: nil, impact: nil,
            category: nil, openedAt: time, receivedAt: time))
    }

    @Test func aTicketsEventsBecomeItsRowTimelineAndReportsAndJunkIsDeadLettered() async throws {
        let harness = try Harness()
        try await harness.run {
            let ticket = TicketInputs("H-1")
            let opened = at("2026-11-02T16:00:00Z")
            let due = at("2026-11-02T17:00:00Z")
            let junk = OutgoingRecord(topic: Topics.classified, key: Array("H-1".utf8), value: Array("{not json".utf8))
            try await harness.publish([
                Self.received(ticket, at: opened), ticket.classified(.critical, openedAt: opened), junk,
                ticket.record(Topics.slaEvents, emitter: "sla-timer", cause: "s", at: opened,
                              SLAStarted(severity: .critical, startedAt: opened, dueAt: due)),
                ticket.breached(.critical, dueAt: due),
            ])
            let store = harness.store
            try await eventually("four events stored") { (try? await store.eventCount()) == 4 }
            try await eventually("the junk record is dead-lettered") { !harness.broker.records(in: Topics.deadletter).isEmpty }
            let dead = harness.broker.records(in: Topics.deadletter)[0]
            #expect(dead.value == Array("{not json".utf8), "the original bytes")
            #expect(dead.headers.contains { $0.name == DeadLetter.Header.errorCode && $0.value == Array("malformed_event".utf8) })
            #expect(dead.headers.contains { $0.name == DeadLetter.Header.error && String(decoding: $0.value, as: UTF8.self).contains("not an event") })

            let (status, body) = try await harness.get("/v1/tickets/\(ticket.ticketId.rawValue)")
            #expect(status == .ok)
            #expect(body.contains(#""severity":"critical""#) && body.contains(#""state":"breached""#))
            #expect(body.contains(#""summary":"classified critical"#) && body.contains(#""type":"sla.breached""#))
            let (open, openBody) = try await harness.get("/v1/open-tickets?severity=critical&limit=10")
            #expect(open == .ok && openBody.contains(ticket.ticketId.rawValue))
            let (breaches, breachBody) = try await harness.get("/v1/breaches?from=2026-11-01&to=2026-11-30")
            #expect(breaches == .ok && breachBody.contains("H-1"))
            let (report, reportBody) = try await harness.get("/v1/reports/attainment?from=2026-11-02&to=2026-11-08&by=week")
            #expect(report == .ok)
            let rows = try WireJSON.decode(AttainmentReport.self, from: Array(reportBody.utf8)).rows
            #expect(rows.count == 3)
            let critical = try #require(rows.first { $0.severity == "critical" })
            #expect(critical.period == "2026-11-02" && critical.tickets == 1 && critical.breached == 1 && critical.unansweredBreaches == 1)
            #expect(critical.metPercent == 0 && critical.medianBusinessSecondsToRespond == nil)
            let (forecast, forecastBody) = try await harness.get("/v1/reports/forecast?from=2026-11-02&to=2026-11-08&by=week")
            #expect(forecast == .ok)
            let forecastRows = try WireJSON.decode(ForecastReport.self, from: Array(forecastBody.utf8)).rows
            let criticalForecast = try #require(forecastRows.first { $0.severity == "critical" })
            #expect(criticalForecast.breached == 1 && criticalForecast.breachedFlaggedInTime == 0 && criticalForecast.recallPercent == 0)
        }
    }

    @Test func refusalsAreExactAndOnlyGETIsAllowed() async throws {
        let harness = try Harness()
        try await harness.run {
            for (uri, token, status, code) in [
                ("/v1/open-tickets", nil, HTTPResponse.Status.unauthorized, "missing_token"),
                ("/v1/open-tickets", "wrong-token", .unauthorized, "invalid_token"),
                ("/v1/tickets/tk_000000000000000000000000", Self.token, .notFound, "unknown_ticket"),
                ("/v1/open-tickets?limit=0", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/open-tickets?limit=501", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/open-tickets?severity=urgent", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/open-tickets?severity=critical&severity=major", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/open-tickets?colour=blue", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/open-tickets?after=garbage", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/breaches?from=2026-11-01", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/breaches?from=2026-11-31&to=2026-12-01", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/reports/attainment?from=2026-11-02&to=2026-11-01", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/reports/attainment?from=2016-01-01&to=2026-11-01", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/reports/attainment?from=2026-11-02&to=2026-11-03&by=day", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/reports/attainment?from=+202-11-02&to=2026-11-03", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/reports/forecast?from=2026-11-02&to=2026-11-01", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/reports/forecast?from=2026-11-02&to=2026-11-03&extra=1", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/open-tickets?organization=a%00b", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/open-tickets?after=1~a%00b", Self.token, .badRequest, "invalid_parameter"),
                ("/v1/tickets/tk_%00", Self.token, .badRequest, "invalid_parameter"),
            ] {
                let (got, body) = try await harness.get(uri, token: token)
                #expect(got == status, "\(uri)")
                #expect(body.contains(#""error":"\#(code)""#), "\(uri): \(body)")
            }
            // A position whose id starts with an emoji modifier (one character with the `~`).
            let (modifier, _) = try await harness.get("/v1/open-tickets?after=-9~%F0%9F%8F%BBh%23")
            #expect(modifier == .ok)
            // 150 characters of two bytes each: within the document's 200 characters.
            let (wide, _) = try await harness.get("/v1/open-tickets?organization=" + String(repeating: "%C3%A9", count: 150))
            #expect(wide == .ok)
            let (answered, allow) = try await Application(router: harness.service.router).test(.router) { client in
                try await client.execute(uri: "/v1/open-tickets", method: .post) { response in
                    (response.status, response.headers[.allow] ?? "")
                }
            }
            #expect(answered == .methodNotAllowed && allow == "GET")
        }
    }
}

@Suite("history settings")
struct HistorySettingsTests {
    @Test func aDatabasePasswordNeverShowsInWhatIsLoggedOrThrown() throws {
        for url in ["postgres://helpdesk:p@ss%zz#1@db:5432/helpdesk", "postgres://helpdesk:s3cr3t-pw@db/helpdesk?sslmode=verify",
                    "postgresql://u:pw/with/slashes@db/x"] {
            let redacted = SecretURL.redacted(url)
            #expect(!redacted.contains("p@ss") && !redacted.contains("s3cr3t") && !redacted.contains("slashes"), "\(redacted)")
            #expect(redacted.hasSuffix("@db:5432/helpdesk") || redacted.contains("@db/"), "\(redacted)")
            let problems: String
            do {
                _ = try buildHistory(ServiceDependencies(
                    serviceName: HistoryProcessor.service, defaultHTTPPort: 0,
                    environment: ["HTTP_PORT": "0", "HISTORY_DATABASE_URL": url], bus: InMemoryBroker()))
                problems = ""
            } catch {
                problems = "\(error)"
            }
            #expect(!problems.contains("p@ss") && !problems.contains("s3cr3t") && !problems.contains("slashes"), "\(problems)")
        }
    }
}
