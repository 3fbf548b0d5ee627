import Foundation
import HTTPTypes
import HelpdeskModel
import HistoryService
import HistoryStore
import Hummingbird
import HummingbirdTesting
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

/// The web console's routes through HummingbirdTesting: every page for every role, sign-in and
/// its cookie, CSRF refused without a token, 403 for the wrong role, escalation commands on
/// Kafka as the escalation API writes them, and the board's Server-Sent Events.
@Suite("web console routes")
struct ConsoleRouteTests {
    static let tokens = [
        ConsoleRole.reader: "reader-token-0123456789", .agent: "agent-token-0123456789", .engineer: "engineer-token-0123456789",
        .manager: "manager-token-0123456789",
    ]
    /// Monday 2026-11-02, 10:00 in Denver: inside business hours.
    static let now = at("2026-11-02T17:00:00Z")

    final class Harness: @unchecked Sendable {
        let broker = InMemoryBroker(defaultPartitions: 3)
        let folder = NSTemporaryDirectory() + "console-\(UUID().uuidString.prefix(8))"
        let clock = VirtualWallClock(ConsoleRouteTests.now)
        let store: SQLiteHistory
        let service: BuiltService

        init() throws {
            store = try SQLiteHistory(path: folder + "/history.sqlite")
            let tokens = ConsoleRouteTests.tokens
            service = try buildHistory(ServiceDependencies(
                serviceName: HistoryProcessor.service, defaultHTTPPort: 0,
                environment: [
                    "HTTP_PORT": "0", "HISTORY_API_TOKENS": "reports=\(tokens[.reader]!)",
                    "ESCALATION_TOKENS": "\(tokens[.agent]!)=agent:ada@support.example,\(tokens[.engineer]!)=engineer:eve@support.example,"
                        + "\(tokens[.manager]!)=manager:max@support.example",
                    "CONSOLE_SESSION_SECRET": "console-session-secret-0123456789abcdef",
                ],
                bus: broker, clock: clock), repository: store)
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }

        struct Reply {
            var status: HTTPResponse.Status
            var headers: HTTPFields
            var body: String
            var cookies: [String] { headers[values: .setCookie] }
        }

        func request(_ uri: String, _ method: HTTPRequest.Method = .get, cookie: String? = nil, form: String? = nil,
                     headers extra: HTTPFields = [:]) async throws -> Reply {
            var headers = extra
            if let cookie { headers[.cookie] = cookie }
            if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
            let sent = headers
            return try await Application(router: service.router).test(.router) { client in
                try await client.execute(uri: uri, method: method, headers: sent, body: form.map { ByteBuffer(string: $0) }) { response in
                    Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
                }
            }
        }

        /// Signs in as `role` through the form; the session cookie (`name=value`).
        func signIn(_ role: ConsoleRole) async throws -> String {
            let form = try await request("/console/sign-in")
            let nonce = try #require(form.cookies.first { $0.hasPrefix(ConsoleSessions.signInCookieName + "=") })
            let csrf = try #require(ConsoleRouteTests.hidden("csrf", in: form.body))
            let reply = try await request("/console/sign-in", .post, cookie: String(nonce.prefix { $0 != ";" }),
                                          form: "csrf=\(csrf)&token=\(ConsoleRouteTests.tokens[role]!)&next=%2Fconsole%2Fboard")
            #expect(reply.status == .seeOther)
            let session = try #require(reply.cookies.first { $0.hasPrefix(ConsoleSessions.cookieName + "=") })
            return String(session.prefix { $0 != ";" })
        }

        /// A critical ticket breached 30 minutes ago, a major one warned, a minor one running,
        /// one answered (off the board), and one requested for escalation.
        func seed() async throws {
            var breached = TicketEvents("C-1"), warned = TicketEvents("C-2"), running = TicketEvents("C-3"), answered = TicketEvents("C-4")
            var escalated = TicketEvents("C-5")
            let opened = at("2026-11-02T15:00:00Z")
            var events = [HistoryEvent]()
            events += [breached.received(at: opened, subject: "Checkout down"), breached.classified(.critical, openedAt: opened, at: opened),
                       breached.started(.critical, at: opened, due: at("2026-11-02T16:30:00Z")), breached.breached(.critical, due: at("2026-11-02T16:30:00Z"))]
            events += [warned.received(at: opened, subject: "Slow reports"), warned.classified(.major, openedAt: opened, at: opened),
                       warned.started(.major, at: opened, due: at("2026-11-02T19:00:00Z")),
                       warned.event(SLAWarning(dueAt: at("2026-11-02T19:00:00Z"), remainingSeconds: 7_200),
                                    at: at("2026-11-02T16:00:00Z"), on: Topics.slaEvents)]
            events += [running.received(at: opened, subject: "Typo on invoice"), running.classified(.minor, openedAt: opened, at: opened),
                       running.started(.minor, at: opened, due: at("2026-11-03T16:00:00Z"))]
            events += [answered.received(at: opened, subject: "Answered already"), answered.classified(.major, openedAt: opened, at: opened),
                       answered.started(.major, at: opened, due: at("2026-11-02T19:00:00Z")),
                       answered.met(at: at("2026-11-02T16:00:00Z"), due: at("2026-11-02T19:00:00Z"), used: 3_600)]
            events += [escalated.received(at: opened, subject: "Data loss"), escalated.classified(.critical, openedAt: opened, at: opened),
                       escalated.started(.critical, at: opened, due: at("2026-11-02T17:30:00Z")),
                       escalated.event(EscalationRequested(by: "it-admin@acme.test", via: .ccReply), at: opened, on: Topics.escalationEvents)]
            try await store.apply(events)
        }
    }

    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func signedOutPagesGoToTheSignInFormAndStreamsAndActionsAreRefused() async throws {
        let harness = try Harness()
        let board = try await harness.request("/console/board?severity=critical")
        #expect(board.status == .seeOther)
        #expect(board.headers[.location] == "/console/sign-in?next=%2Fconsole%2Fboard%3Fseverity%3Dcritical")
        #expect(try await harness.request("/console/board/events").status == .unauthorized)
        #expect(try await harness.request("/console/tickets/x/escalation/escalate", .post, form: "").status == .unauthorized)
        let forged = try await harness.request("/console/board", cookie: "\(ConsoleSessions.cookieName)=eyJ1c2VyIjp7fX0.AAAA")
        #expect(forged.status == .seeOther, "a cookie this secret did not sign is no session")
        let form = try await harness.request("/console/sign-in?next=%2Fconsole%2Freports")
        #expect(form.status == .ok)
        #expect(form.body.contains("<label for=\"token\">"))
        #expect(form.body.contains("value=\"/console/reports\""))
        #expect(form.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
        #expect(form.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
    }

    @Test func signInSetsAStrictHttpOnlyCookieAndRefusesABadTokenOrAMissingCSRFToken() async throws {
        let harness = try Harness()
        let form = try await harness.request("/console/sign-in")
        let nonce = String(try #require(form.cookies.first { $0.hasPrefix(ConsoleSessions.signInCookieName) }).prefix { $0 != ";" })
        let csrf = try #require(Self.hidden("csrf", in: form.body))

        let wrong = try await harness.request("/console/sign-in", .post, cookie: nonce, form: "csrf=\(csrf)&token=not-a-token-at-all")
        #expect(wrong.status == .unauthorized)
        #expect(wrong.body.contains("That token is not valid."))
        #expect(!wrong.body.contains("not-a-token-at-all"), "the token is never echoed")
        let noCSRF = try await harness.request("/console/sign-in", .post, cookie: nonce, form: "token=\(Self.tokens[.engineer]!)")
        #expect(noCSRF.status == .forbidden)
        #expect(noCSRF.cookies.allSatisfy { !$0.hasPrefix(ConsoleSessions.cookieName + "=") })

        let good = try await harness.request("/console/sign-in", .post, cookie: nonce,
                                             form: "csrf=\(csrf)&token=\(Self.tokens[.engineer]!)&next=https%3A%2F%2Fevil.example%2F",
                                             headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
        #expect(good.status == .seeOther)
        #expect(good.headers[.location] == "/console/board", "next leaves the console: ignored")
        let session = try #require(good.cookies.first { $0.hasPrefix(ConsoleSessions.cookieName + "=") })
        #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Secure") && session.contains("Path=/console"))
        #expect(!session.contains(Self.tokens[.engineer]!), "the cookie never holds the token")
        let plain = try await harness.request("/console/sign-in", .post, cookie: nonce, form: "csrf=\(csrf)&token=\(Self.tokens[.reader]!)")
        #expect(plain.cookies.first { $0.hasPrefix(ConsoleSessions.cookieName + "=") }?.contains("Secure") == false, "no TLS, no Secure")
    }

    @Test func everyPageAnswersEveryRoleAndTheDeskOnlyEngineersAndManagers() async throws {
        let harness = try Harness()
        try await harness.seed()
        let ticket = TicketID(source: "crm", externalId: "C-1").rawValue
        for role in ConsoleRole.allCases {
            let cookie = try await harness.signIn(role)
            for page in ["/console/board", "/console/board?severity=critical&clock=breached", "/console/board/rows",
                         "/console/tickets/\(ticket)", "/console/reports", "/console/reports?from=2026-10-01&to=2026-11-30&by=month",
                         "/console/reports.csv?from=2026-11-01&to=2026-11-30"] {
                let reply = try await harness.request(page, cookie: cookie)
                #expect(reply.status == .ok, "\(role) \(page)")
            }
            let desk = try await harness.request("/console/escalations", cookie: cookie)
            #expect(desk.status == (role.runsEscalations ? .ok : .forbidden), "\(role) desk")
            if !role.runsEscalations { #expect(desk.body.contains("for engineers and managers")) }
            if role.runsEscalations {
                #expect(desk.body.contains("Requested <small>(1)</small>"))
                #expect(desk.body.contains(TicketID(source: "crm", externalId: "C-5").rawValue))
            }
            #expect(try await harness.request("/console/tickets/tk_000000000000000000000000", cookie: cookie).status == .notFound)
            #expect(try await harness.request("/console/board?severity=urgent", cookie: cookie).status == .badRequest)
            #expect(try await harness.request("/console/board", .put, cookie: cookie).status == .methodNotAllowed)
        }
    }

    @Test func theBoardListsWhatAwaitsAFirstResponseByTimeLeftWithItsStateInWords() async throws {
        let harness = try Harness()
        try await harness.seed()
        let cookie = try await harness.signIn(.reader)
        let board = try await harness.request("/console/board", cookie: cookie)
        let ids = ["C-1", "C-5", "C-2", "C-3"].map { TicketID(source: "crm", externalId: $0).rawValue }
        let positions = ids.map { board.body.range(of: "data-ticket=\"\($0)\"")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(), "least time left first")
        #expect(!board.body.contains(TicketID(source: "crm", externalId: "C-4").rawValue), "an answered ticket has left the board")
        #expect(board.body.contains("<span class=\"state\">Breached</span> <span class=\"left\">30m over</span>"))
        #expect(board.body.contains("<span class=\"state\">Warning</span>"))
        #expect(board.body.contains("classifier 88%"))
        #expect(board.body.contains("<small class=\"reasons\">service down</small>"), "the classifier's reasons on the board")
        let critical = try await harness.request("/console/board?severity=critical&escalation=requested", cookie: cookie)
        #expect(critical.body.contains(ids[1]) && !critical.body.contains(ids[0]))
        let none = try await harness.request("/console/board?assignee=nobody%40support.example", cookie: cookie)
        #expect(none.body.contains("id=\"board-empty\">No open ticket matches."))
        #expect(board.body.contains("id=\"board-empty\" hidden>"), "the board says it is empty only when it is")
    }

    /// Predicted against due on every waiting ticket: the forecaster's ledger as it is now
    /// (`forecast.changelog`), else its stored word (`sla.forecast`).
    @Test func theBoardShowsPredictedAgainstDue() async throws {
        let harness = try Harness()
        try await harness.seed()
        var risky = TicketEvents("C-3")
        let opened = at("2026-11-02T15:00:00Z")
        try await harness.store.apply([
            risky.expected(.minor, at: opened, expected: at("2026-11-03T18:00:00Z"), due: at("2026-11-03T16:00:00Z"), told: true),
            risky.atRisk(.minor, episode: 1, at: opened, expected: at("2026-11-03T18:00:00Z"), due: at("2026-11-03T16:00:00Z")),
        ])
        var entry = ForecastLedger.Entry()
        entry.expected = true
        entry.expectedAt = at("2026-11-02T18:10:00Z")
        entry.latest = at("2026-11-02T18:40:00Z")
        _ = try await harness.broker.makePublisher().publish([OutgoingRecord(
            topic: Topics.forecastChangelog, key: TicketID(source: "crm", externalId: "C-2").rawValue,
            value: ForecastLedger.changelogValue(entry))])
        let group = harness.service.group
        let running = Task { try await group.run() }
        let cookie = try await harness.signIn(.reader)
        try await eventually("the ledger is followed", within: .seconds(60)) {
            (try? await harness.request("/console/board", cookie: cookie))?.body
                .contains("<strong>Expected in time</strong>: answer expected 11:10 MST (11:40 MST if service runs slow) · due 12:00 MST") == true
        }
        let board = try await harness.request("/console/board", cookie: cookie)
        #expect(board.body.contains("forecast-at-risk\"><strong>At risk</strong>: answer expected Tue 3 Nov 11:00 MST · due Tue 3 Nov 09:00 MST"))
        let page = try await harness.request("/console/tickets/" + risky.ticketId.rawValue, cookie: cookie)
        #expect(page.body.contains("<dt>Customer told</dt><dd>an answer by 2026-11-03 11:00 MST, beyond the target"))
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func escalationActionsNeedTheSessionsCSRFTokenAndTheRightRoleAndBecomeCommands() async throws {
        let harness = try Harness()
        try await harness.seed()
        let ticket = TicketID(source: "crm", externalId: "C-5").rawValue
        let engineer = try await harness.signIn(.engineer)
        let page = try await harness.request("/console/tickets/\(ticket)", cookie: engineer)
        let csrf = try #require(Self.hidden("csrf", in: page.body))
        #expect(page.body.contains("action=\"/console/tickets/\(ticket)/escalation/evaluate\""))
        #expect(page.body.contains("Signal “serviceDown” in subject: &quot;down&quot; meets “service down” (critical)"), "\(page.body)")

        let missing = try await harness.request("/console/tickets/\(ticket)/escalation/evaluate", .post, cookie: engineer,
                                                form: "engineer=eve%40support.example")
        #expect(missing.status == .forbidden)
        #expect(missing.body.contains("CSRF"))
        let otherSession = try await harness.signIn(.engineer)
        let replayed = try await harness.request("/console/tickets/\(ticket)/escalation/evaluate", .post, cookie: otherSession,
                                                 form: "csrf=\(csrf)&engineer=eve%40support.example")
        #expect(replayed.status == .forbidden, "a token is bound to its session")

        let reader = try await harness.signIn(.reader)
        let readerPage = try await harness.request("/console/tickets/\(ticket)", cookie: reader)
        #expect(!readerPage.body.contains("/escalation/"), "a reader sees no action")
        let readerCSRF = try #require(Self.hidden("csrf", in: readerPage.body))
        #expect(try await harness.request("/console/tickets/\(ticket)/escalation/request", .post, cookie: reader,
                                          form: "csrf=\(readerCSRF)").status == .forbidden)
        let agent = try await harness.signIn(.agent)
        let agentCSRF = try #require(Self.hidden("csrf", in: try await harness.request("/console/board", cookie: agent).body))
        #expect(try await harness.request("/console/tickets/\(ticket)/escalation/escalate", .post, cookie: agent,
                                          form: "csrf=\(agentCSRF)").status == .forbidden)

        let commandId = "4b7d2c1e-9a8f-4e3b-8c2d-1f0e9d8c7b6a"
        let sent = try await harness.request("/console/tickets/\(ticket)/escalation/evaluate", .post, cookie: engineer,
                                             form: "csrf=\(csrf)&commandId=\(commandId)&engineer=+eve%40support.example+")
        #expect(sent.status == .seeOther)
        #expect(sent.headers[.location] == "/console/tickets/\(ticket)?sent=\(commandId)")
        let records = harness.broker.records(in: Topics.escalationCommands)
        #expect(records.count == 1)
        let record = try WireJSON.decode(EscalationCommandRecord.self, from: try #require(records.first?.value))
        #expect(record.commandId == commandId)
        #expect(record.ticketId.rawValue == ticket)
        #expect(record.command == .evaluate(engineer: "eve@support.example", by: EscalationActor("eve@support.example", role: .engineer)))
        #expect(records.first?.key == Array(ticket.utf8), "keyed by ticket, as the escalation API writes them")
        let waiting = try await harness.request("/console/tickets/\(ticket)?sent=\(commandId)", cookie: engineer)
        #expect(waiting.body.contains("Waiting for the escalation service"))

        let bad = try await harness.request("/console/tickets/\(ticket)/escalation/evaluate", .post, cookie: engineer,
                                            form: "csrf=\(csrf)&engineer=eve%0Aevil")
        #expect(bad.status == .badRequest)
        #expect(bad.body.contains("engineer must not contain control characters"))
        let signOut = try await harness.request("/console/sign-out", .post, cookie: engineer, form: "csrf=\(csrf)")
        #expect(signOut.status == .seeOther)
        #expect(signOut.cookies.contains { $0.hasPrefix(ConsoleSessions.cookieName + "=;") && $0.contains("Max-Age=0") })
    }

    @Test func deEscalationNamesTheMissingConditionsAndARefusalIsShownAsOne() async throws {
        let harness = try Harness()
        var ticket = TicketEvents("D-1")
        let opened = at("2026-11-02T15:00:00Z")
        try await harness.store.apply([
            ticket.received(at: opened), ticket.classified(.critical, openedAt: opened, at: opened),
            ticket.event(EscalationRequested(by: "it-admin@acme.test", via: .ccReply), at: opened, on: Topics.escalationEvents),
            ticket.event(EscalationEvaluating(engineer: "eve@support.example", by: "max@support.example"), at: opened, on: Topics.escalationEvents),
            ticket.event(EscalationEscalated(by: "eve@support.example"), at: opened, on: Topics.escalationEvents),
            ticket.event(EscalationConditionRecorded(condition: .actionPlanConfirmed, by: "eve@support.example", note: "call at 10"),
                         at: at("2026-11-02T16:10:00Z"), on: Topics.escalationEvents),
            ticket.event(Caused(EscalationDeEscalationRefused(by: "eve@support.example", missing: [.troubleshootingVerified, .partiesAgreed]),
                                causedBy: "0a5b3c1e-9a8f-4e3b-8c2d-1f0e9d8c7b6a"),
                         at: at("2026-11-02T16:20:00Z"), on: Topics.escalationEvents),
        ])
        let cookie = try await harness.signIn(.manager)
        let page = try await harness.request("/console/tickets/\(ticket.ticketId.rawValue)?sent=0a5b3c1e-9a8f-4e3b-8c2d-1f0e9d8c7b6a",
                                             cookie: cookie)
        #expect(page.body.contains("De-escalate (missing: Troubleshooting verified, Parties agreed)"))
        #expect(page.body.contains("Action plan confirmed: recorded by eve@support.example"))
        #expect(page.body.contains("“call at 10”"))
        #expect(page.body.contains("Troubleshooting verified: not recorded"))
        #expect(page.body.contains("notice-refused"))
        #expect(page.body.contains("Record: Parties agreed"))
    }

    @Test func theTicketPageShowsEveryOtherMetricsLatestInstance() async throws {
        let harness = try Harness()
        var ticket = TicketEvents("M-1")
        let opened = at("2026-11-02T15:00:00Z")
        try await harness.store.apply([
            ticket.received(at: opened), ticket.classified(.critical, openedAt: opened, at: opened),
            ticket.started(.critical, at: opened, due: at("2026-11-02T17:00:00Z")),
            ticket.event(SLAStarted(severity: .critical, metric: .resolution, startedAt: opened, dueAt: at("2026-11-03T15:00:00Z")),
                         at: opened, on: Topics.slaEvents),
            ticket.met(at: at("2026-11-02T15:30:00Z"), due: at("2026-11-02T17:00:00Z"), used: 1_800),
            ticket.event(SLAStarted(severity: .critical, metric: .nextReply, instance: 1, startedAt: at("2026-11-02T15:40:00Z"),
                                    dueAt: at("2026-11-02T17:40:00Z")), at: at("2026-11-02T15:40:00Z"), on: Topics.slaEvents),
            ticket.event(SLAMet(metric: .nextReply, instance: 1, dueAt: at("2026-11-02T17:40:00Z"), respondedAt: at("2026-11-02T15:50:00Z"),
                                businessSecondsUsed: 600), at: at("2026-11-02T15:50:00Z"), on: Topics.slaEvents),
            ticket.event(SLAStarted(severity: .critical, metric: .nextReply, instance: 2, startedAt: at("2026-11-02T16:00:00Z"),
                                    dueAt: at("2026-11-02T18:00:00Z")), at: at("2026-11-02T16:00:00Z"), on: Topics.slaEvents),
            ticket.event(SLAPaused(metric: .resolution, status: .pending, remainingSeconds: 20_000), at: at("2026-11-02T16:10:00Z"),
                         on: Topics.slaEvents),
        ])
        let cookie = try await harness.signIn(.reader)
        let page = try await harness.request("/console/tickets/\(ticket.ticketId.rawValue)", cookie: cookie)
        #expect(page.status == .ok)
        #expect(page.body.contains("<h2 id=\"s-metrics\">Other SLA metrics</h2>"))
        #expect(page.body.contains("<dt>Resolution </dt><dd class=\"metric-paused\">paused</dd>"))
        #expect(page.body.contains("<dt>Next reply #2</dt><dd class=\"metric-running\">running, due <time datetime=\"2026-11-02T18:00:00Z\""))
        #expect(page.body.contains("nextReply #1: met at 2026-11-02T15:50:00Z"), "the timeline names the metric and its instance")
        // The first response stays where it was, and the board row is the first response's.
        #expect(page.body.contains("<h2 id=\"s-clock\">First response</h2>"))
        let board = try await harness.request("/console/board", cookie: cookie)
        #expect(!board.body.contains("M-1"), "answered: off the board, whatever the other metrics")
    }

    @Test func reportsDrawSVGChartsAndDownloadCSV() async throws {
        let harness = try Harness()
        try await harness.seed()
        let cookie = try await harness.signIn(.reader)
        let page = try await harness.request("/console/reports?from=2026-11-01&to=2026-11-30&by=week", cookie: cookie)
        #expect(page.status == .ok)
        #expect(page.body.components(separatedBy: "<svg class=\"chart\"").count == 5, "four charts")
        #expect(page.body.contains("<title>2026-11-02, major: 100.0%</title>"), "the answer in time, in the week of Monday 2 November")
        #expect(page.body.contains("<title>2026-11-02, critical: 1</title>"), "one breach")
        #expect(page.body.contains("<title>≤ 25% of target, major: 1</title>"), "answered after an hour of a four-hour target")
        let csv = try await harness.request("/console/reports.csv?from=2026-11-01&to=2026-11-07&by=week", cookie: cookie)
        #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
        #expect(csv.headers[.contentDisposition]?.contains("attachment") == true)
        #expect(csv.body.hasPrefix(AttainmentReport.columns.joined(separator: ",") + "\n2026-10-26,critical,0,0,0,,"))
        #expect(csv.body.contains("\n2026-11-02,critical,1,0,1,0.0,"))
        #expect(page.body.contains("<h2 id=\"forecast\">Forecast against outcome</h2>"))
        let forecast = try await harness.request("/console/reports/forecast.csv?from=2026-11-01&to=2026-11-07&by=week", cookie: cookie)
        #expect(forecast.headers[.contentDisposition]?.contains("forecast-2026-11-01-2026-11-07-week.csv") == true)
        #expect(forecast.body.hasPrefix(ForecastReport.columns.joined(separator: ",") + "\n"))
        #expect(forecast.body.contains("\n2026-11-02,critical,1,0,,,0,0,0,0,0,,1,0,0.0\n"), "one breach, never flagged")
        #expect(try await harness.request("/console/reports?from=2026-11-30&to=2026-11-01", cookie: cookie).status == .badRequest)
    }

    @Test func theBoardStreamSendsAChangedRowAsItsEventCommits() async throws {
        let harness = try Harness()
        let cookie = try await harness.signIn(.reader)
        let stream = Task { try await harness.request("/console/board/events?severity=critical", cookie: cookie) }
        try await harness.service.runUntil {
            // The stream subscribes when its request is handled; then a ticket arrives.
            try await Task.sleep(for: .milliseconds(500))
            var ticket = TicketEvents("S-1"), other = TicketEvents("S-2")
            let opened = at("2026-11-02T16:50:00Z")
            try await harness.store.apply([ticket.received(at: opened), ticket.classified(.critical, openedAt: opened, at: opened),
                                           other.received(at: opened), other.classified(.minor, openedAt: opened, at: opened)])
            try await Task.sleep(for: .milliseconds(800))
        }
        let reply = try await stream.value
        #expect(reply.headers[.contentType] == "text/event-stream; charset=utf-8")
        let id = TicketID(source: "crm", externalId: "S-1").rawValue, minor = TicketID(source: "crm", externalId: "S-2").rawValue
        #expect(reply.body.contains("event: row\ndata: {\"html\":\"<tr data-ticket=\\\"\(id)\\\"") || reply.body.contains("\"id\":\"\(id)\""))
        #expect(reply.body.contains("event: remove\ndata: {\"id\":\"\(minor)\"}"), "a minor ticket does not belong on a critical board")
    }
}

extension BuiltService {
    /// Runs the group while `body` runs, then shuts it down (no broker readiness needed).
    func runUntil(_ body: () async throws -> Void) async throws {
        let group = self.group
        let running = Task { try await group.run() }
        defer { running.cancel() }
        try await body()
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
