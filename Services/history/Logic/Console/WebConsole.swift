import Foundation
import HTTPTypes
import HelpdeskModel
import HistoryStore
import Hummingbird
import Logging
import MessageBus
import ServiceRuntime

/// The web console under `/console`: the SLA board, a ticket's page, the escalation desk and the
/// reports, rendered on the server (`ConsoleTemplates`) from the history store; live through
/// Server-Sent Events fed by `ConsoleFeed`. Sign-in with the tokens people already hold
/// (`ConsoleSignIn`), a signed session cookie and a CSRF token on every form
/// (`ConsoleSessions`). Escalation actions are commands on `escalation.commands`, as the
/// escalation API writes them; their outcome is the event that comes back.
public struct WebConsole: Sendable {
    public static let pageSize = 100
    static let maxFormBytes = 16 * 1024

    let repository: any HistoryRepository
    let reports: HistoryReports
    let policy: SLAPolicy
    let signIn: ConsoleSignIn
    let sessions: ConsoleSessions
    let commands: any AcknowledgedSink
    let feed: ConsoleFeed
    /// The forecaster's latest word on a ticket (its ledger entry in `forecast.changelog`).
    let forecasts: @Sendable (String) -> ForecastLedger.Entry?
    let templates: ConsoleTemplates
    /// Cookies get `Secure` on every response, not only behind an `https` proxy.
    let alwaysSecure: Bool
    let now: @Sendable () -> Date
    let newCommandID: @Sendable () -> String
    let logger: Logger

    public init(
        repository: any HistoryRepository, policy: SLAPolicy, signIn: ConsoleSignIn, sessions: ConsoleSessions,
        commands: any AcknowledgedSink, feed: ConsoleFeed, forecasts: @escaping @Sendable (String) -> ForecastLedger.Entry? = { _ in nil },
        alwaysSecure: Bool = false, now: @escaping @Sendable () -> Date,
        newCommandID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }, logger: Logger
    ) throws {
        self.repository = repository
        reports = HistoryReports(repository: repository, calendar: policy.calendar)
        self.policy = policy
        self.signIn = signIn
        self.sessions = sessions
        self.commands = commands
        self.feed = feed
        self.forecasts = forecasts
        templates = try ConsoleTemplates()
        self.alwaysSecure = alwaysSecure
        self.now = now
        self.newCommandID = newCommandID
        self.logger = logger
    }

    public func addRoutes(to router: Router<ServiceRequestContext>) {
        let gets = ["console", "console/sign-in", "console/board", "console/board/rows", "console/board/events", "console/escalations",
                    "console/escalations/events", "console/tickets/:ticketId", "console/tickets/:ticketId/events", "console/reports",
                    "console/reports.csv", "console/reports/forecast.csv", "console/assets/console.css", "console/assets/console.js"]
        for path in gets {
            MethodRefusal.refuseOthers(on: router, RouterPath(path), allowing: path == "console/sign-in" ? [.get, .post] : [.get])
        }
        MethodRefusal.refuseOthers(on: router, "console/sign-out", allowing: [.post])
        MethodRefusal.refuseOthers(on: router, "console/tickets/:ticketId/escalation/:action", allowing: [.post])

        let open = router.group("console").add(middleware: ConsoleHeaders())
        open.get("assets/console.css") { _, _ in Self.asset(PackageResources.console_css, type: "text/css; charset=utf-8") }
        open.get("assets/console.js") { _, _ in Self.asset(PackageResources.console_js, type: "text/javascript; charset=utf-8") }
        open.get("sign-in") { request, _ in try signInPage(request) }
        open.post("sign-in") { request, context in try await signInSubmitted(request, context) }

        let signedIn = open.group().add(middleware: ConsoleAuthentication(sessions: sessions))
        signedIn.get("") { _, _ in Response.seeOther("/console/board") }
        signedIn.post("sign-out") { request, context in try await signOut(request, context) }
        signedIn.get("board") { request, context in try await page(context) { try await board(request, context) } }
        signedIn.get("board/rows") { request, context in try await page(context) { try await boardRows(request) } }
        signedIn.get("board/events") { request, _ in try boardEvents(request) }
        signedIn.get("escalations") { request, context in try await page(context) { try await desk(request, context) } }
        signedIn.get("escalations/events") { _, context in
            try Self.require(context, runsEscalations: true)
            return changes { $0.escalation != .none }
        }
        signedIn.get("tickets/:ticketId") { request, context in
            try await page(context) { try await ticket(request, context) }
        }
        signedIn.get("tickets/:ticketId/events") { _, context in
            let ticketId = try PathParameter.decoded("ticketId", in: context)
            return changes { $0.ticketId == ticketId }
        }
        signedIn.post("tickets/:ticketId/escalation/:action") { request, context in
            try await page(context) { try await escalationAction(request, context) }
        }
        signedIn.get("reports") { request, context in try await page(context) { try await reportsPage(request, context) } }
        signedIn.get("reports.csv") { request, context in
            try await page(context) { try await reportsCSV(request, name: "attainment") { try await reports.attainment($0) } }
        }
        signedIn.get("reports/forecast.csv") { request, context in
            try await page(context) { try await reportsCSV(request, name: "forecast") { try await reports.forecast($0) } }
        }
    }

    // MARK: Sign-in

    private func signInPage(_ request: Request, error: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        let nonce = ConsoleSessions.randomSecret()
        let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init)) ?? "/console/board"
        let model = PageModel(title: "Sign in", user: nil, csrf: "", nav: .init(), refresh: nil,
                              page: SignInPage(error: error, csrf: sessions.csrfToken(signInCookie: nonce), next: next))
        var response = try html(status, templates.render(model, "sign-in"))
        response.setCookie(cookie(ConsoleSessions.signInCookieName, nonce, request, path: "/console/sign-in", maxAge: 3_600))
        return response
    }

    private func signInSubmitted(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let form = try await Self.form(request, context)
        guard let nonce = request.cookies[ConsoleSessions.signInCookieName]?.value,
              sessions.isValidCSRF(form["csrf"] ?? "", signInCookie: nonce)
        else {
            return try signInPage(request, error: "The sign-in form expired or did not come from this console. Sign in again.",
                                  status: .forbidden)
        }
        guard let token = form["token"], let user = signIn.user(presenting: token) else {
            return try signInPage(request, error: "That token is not valid.", status: .unauthorized)
        }
        let issued = sessions.issue(user)
        context.logger.info("console sign-in", metadata: ["user": "\(user.name)", "role": "\(user.role.rawValue)"])
        var response = Response.seeOther(Self.safeNext(form["next"]) ?? "/console/board")
        response.setCookie(cookie(ConsoleSessions.cookieName, issued.cookie, request, path: "/console",
                                  maxAge: Int(ConsoleSessions.lifetimeSeconds)))
        response.setCookie(cookie(ConsoleSessions.signInCookieName, "", request, path: "/console/sign-in", maxAge: 0))
        return response
    }

    private func signOut(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let session = try verifiedForm(try await Self.form(request, context), request).session
        context.logger.info("console sign-out", metadata: ["user": "\(session.user.name)"])
        var response = Response.seeOther("/console/sign-in")
        response.setCookie(cookie(ConsoleSessions.cookieName, "", request, path: "/console", maxAge: 0))
        return response
    }

    /// Only a path of this console: never another site, nor `//host`.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/console/"), !next.contains("//"), !next.contains("\\"), next.utf8.count <= 2_000,
              !next.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return next
    }

    private func cookie(_ name: String, _ value: String, _ request: Request, path: String, maxAge: Int) -> Cookie {
        let secure = alwaysSecure || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        return Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secure, httpOnly: true, sameSite: .strict)
    }

    // MARK: Board

    private func board(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let filters = try BoardFilters(request)
        let page = try await repository.openTickets(filters.query(limit: Self.pageSize))
        let at = now()
        let rows = page.tickets.map { BoardRow($0, policy: policy, now: at, forecast: forecasts($0.ticketId)) }
        let model = try pageModel(request, title: "SLA board", nav: .init(board: true), page: BoardPage(
            filters: filters, rows: rows, limit: Self.pageSize, more: page.next != nil,
            next: page.next.map { "/console/board?" + filters.queryString(after: $0.token) }))
        return try html(.ok, templates.render(model, "board"))
    }

    private func boardRows(_ request: Request) async throws -> Response {
        let filters = try BoardFilters(request)
        let page = try await repository.openTickets(filters.query(limit: Self.pageSize))
        let at = now()
        return try html(.ok, templates.render(["rows": page.tickets.map { BoardRow($0, policy: policy, now: at, forecast: forecasts($0.ticketId)) }], "rows"))
    }

    /// Server-Sent Events: `row` with a changed ticket's row (its id, sort key and HTML) when
    /// it belongs on the board, `remove` with its id when it no longer does.
    private func boardEvents(_ request: Request) throws -> Response {
        let query = try BoardFilters(request).query(limit: Self.pageSize)
        let templates = self.templates, policy = self.policy, now = self.now, forecasts = self.forecasts
        return eventStream { rows in
            let at = now()
            var text = ""
            for row in rows {
                if query.matches(row) {
                    let html = templates.render(BoardRow(row, policy: policy, now: at, forecast: forecasts(row.ticketId)), "row")
                    text += ServerSentEvent.make("row", json: RowChange(id: row.ticketId, key: row.dueSortKey, html: html))
                } else {
                    text += ServerSentEvent.make("remove", json: RowChange(id: row.ticketId, key: nil, html: nil))
                }
            }
            return text
        }
    }

    /// `changed` whenever a ticket `matching` changes: the page then reloads its live parts.
    private func changes(_ matching: @escaping @Sendable (TicketRecord) -> Bool) -> Response {
        eventStream { rows in rows.contains(where: matching) ? "event: changed\ndata: {}\n\n" : "" }
    }

    private func eventStream(_ render: @escaping @Sendable ([TicketRecord]) -> String) -> Response {
        let stream = feed.subscribe()
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
                for await rows in stream {
                    // An empty batch is the feed's heartbeat: it finds closed connections.
                    let text = rows.isEmpty ? ": keep-alive\n\n" : render(rows)
                    if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                }
                try await writer.finish(nil)
            })
    }

    // MARK: Escalation desk

    private func desk(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        try Self.require(context, runsEscalations: true)
        try Query(request).only([])
        let at = now()
        var queues = [DeskQueue]()
        for (state, title) in [(EscalationState.requested, "Requested"), (.evaluating, "Being evaluated"), (.escalated, "Escalated")] {
            let page = try await repository.openTickets(OpenTicketQuery(escalation: state, limit: OpenTicketQuery.maxLimit))
            queues.append(DeskQueue(state: state.rawValue, title: title, rows: page.tickets.map { BoardRow($0, policy: policy, now: at, forecast: forecasts($0.ticketId)) },
                                    more: page.next != nil))
        }
        let model = try pageModel(request, title: "Escalation desk", nav: .init(desk: true), refresh: "/console/escalations/events",
                                  page: DeskPage(queues: queues))
        return try html(.ok, templates.render(model, "desk"))
    }

    // MARK: Ticket page

    private func ticket(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let ticketId = try PathParameter.decoded("ticketId", in: context)
        let query = try Query(request)
        try query.only(["sent"])
        guard ticketId.utf8.count <= HistoryEvent.longestIdentifier, !ticketId.unicodeScalars.contains("\u{0}"),
              let history = try await repository.ticket(ticketId)
        else {
            throw ConsolePageError(.notFound, "Unknown ticket", "No event of ticket \(ticketId) is in the history.")
        }
        let session = try session(request)
        let sent = query[name: "sent"].flatMap { UUID(uuidString: $0) != nil ? $0.lowercased() : nil }
        let view = TicketPageView(history, policy: policy, now: now(), forecast: forecasts(history.ticket.ticketId), user: session.user,
                              csrf: sessions.csrfToken(for: session), sent: sent, newCommandID: newCommandID)
        let model = try pageModel(request, title: view.row.subject, nav: .init(board: true),
                                  refresh: view.row.href + "/events", page: view)
        return try html(.ok, templates.render(model, "ticket"))
    }

    private func escalationAction(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let ticketId = try PathParameter.decoded("ticketId", in: context)
        let action = try PathParameter.decoded("action", in: context)
        let (session, form) = try verifiedForm(try await Self.form(request, context), request)
        guard let actor = session.user.actor, let kind = EscalationAction(rawValue: action) else {
            if EscalationAction(rawValue: action) == nil {
                throw ConsolePageError(.notFound, "Unknown action", "\(action) is not an escalation action.")
            }
            throw ConsolePageError(.forbidden, "Not allowed", "A reader may not act on escalations.")
        }
        guard kind == .request || actor.runsEscalations else {
            throw ConsolePageError(.forbidden, "Not allowed", "Only engineers and managers may \(action); you are signed in as \(actor.role.rawValue).")
        }
        guard let ticket = try await repository.tickets([ticketId]).first else {
            throw ConsolePageError(.notFound, "Unknown ticket", "No event of ticket \(ticketId) is in the history.")
        }
        let command = try kind.command(form, actor: actor)
        guard commands.isAvailable else {
            throw ConsolePageError(.serviceUnavailable, "Kafka is unreachable", "The command was not sent. Retry in a moment.")
        }
        let commandId = form["commandId"].flatMap { UUID(uuidString: $0) != nil ? $0.lowercased() : nil } ?? newCommandID()
        let record = EscalationCommandRecord(
            commandId: commandId, ticketId: TicketID(rawValue: ticket.ticketId), command: command, issuedBy: actor.name, issuedAt: now())
        _ = try await commands.write(OutgoingRecord(
            topic: Topics.escalationCommands, key: ticket.ticketId, value: try WireJSON.encode(record),
            headers: [RecordHeader("content-type", "application/json")]))
        context.logger.info("console escalation command", metadata: [
            "ticketId": "\(ticket.ticketId)", "command": "\(command.name)", "commandId": "\(commandId)", "user": "\(actor.name)",
        ])
        return Response.seeOther("\(BoardRow.href(ticketId: ticket.ticketId))?sent=\(commandId)")
    }

    // MARK: Reports

    private func reportsPage(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let period = try reportPeriod(request)
        // One read of the period's closed clocks serves the table and every chart.
        let samples = try await repository.attainmentSamples(startedIn: period.instants(in: policy.calendar))
        let report = AttainmentReport(samples: samples, period: period, calendar: policy.calendar)
        let csvQuery = "from=\(period.from)&to=\(period.to)&by=\(period.by.rawValue)"
        let model = try pageModel(request, title: "SLA reports", nav: .init(reports: true), page: ReportsPage(
            from: period.from.description, to: period.to.description, by: period.by.rawValue,
            groupings: ReportPeriod.Grouping.allCases.map { Option(value: $0.rawValue, label: $0.rawValue, selected: $0 == period.by) },
            timeZone: policy.calendar.timeZoneIdentifier, csvURL: "/console/reports.csv?" + csvQuery,
            metChart: ReportCharts.metPercent(report),
            distributionChart: ReportCharts.distributionChart(ReportCharts.distribution(samples, policy: policy)),
            breachChart: ReportCharts.breaches(report), latenessChart: ReportCharts.lateness(report),
            columns: AttainmentReport.columns, cells: report.cells(durationsInSeconds: false),
            forecastCSVURL: "/console/reports/forecast.csv?" + csvQuery, forecastColumns: ForecastReport.columns,
            forecastCells: ForecastReport(samples: samples, period: period, calendar: policy.calendar).cells(durationsInSeconds: false)))
        return try html(.ok, templates.render(model, "reports"))
    }

    private func reportsCSV<R: PeriodReport>(
        _ request: Request, name: String, _ make: (ReportPeriod) async throws -> R
    ) async throws -> Response {
        let period = try reportPeriod(request)
        let report = try await make(period)
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8",
                      .contentDisposition: "attachment; filename=\"\(name)-\(period.from)-\(period.to)-\(period.by.rawValue).csv\""],
            body: .init(byteBuffer: ByteBuffer(string: report.csv + "\n")))
    }

    /// The period a report page asks for; by default the last four weeks to today.
    private func reportPeriod(_ request: Request) throws -> ReportPeriod {
        let query = try Query(request, ignoringEmpty: true)
        try query.only(["from", "to", "by"])
        let grouping = try query.wire("by", ReportPeriod.Grouping.self) ?? .week
        guard query[name: "from"] != nil || query[name: "to"] != nil else {
            let today = policy.calendar.local(now()).date
            return try ReportPeriod(from: LocalDate(dayNumber: today.dayNumber - 27), to: today, by: grouping)
        }
        return try query.period(grouping: grouping)
    }

    // MARK: Pieces

    /// Renders a handler's page; a refusal as an HTML page with its status.
    private func page(_ context: ServiceRequestContext, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as ConsolePageError {
            return try errorPage(context, error)
        } catch let refusal as HTTPRefusal {
            return try errorPage(context, ConsolePageError(refusal.status, "Not possible", refusal.message))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.warning("a console page failed", metadata: ["error": "\(error)"])
            return try errorPage(context, ConsolePageError(.serviceUnavailable, "Unavailable", "The history database did not answer. Retry later."))
        }
    }

    private func errorPage(_ context: ServiceRequestContext, _ error: ConsolePageError) throws -> Response {
        let user = context.identity.flatMap { caller in caller.role.flatMap(ConsoleRole.init(rawValue:)).map { ConsoleUser(name: caller.name, role: $0) } }
        let model = PageModel(title: error.heading, user: user.map(UserView.init), csrf: "", nav: .init(), refresh: nil,
                              page: ErrorPage(heading: error.heading, message: error.message))
        return try html(error.status, templates.render(model, "error"))
    }

    private func pageModel<Page>(_ request: Request, title: String, nav: NavView, refresh: String? = nil, page: Page) throws
        -> PageModel<Page>
    {
        let session = try session(request)
        return PageModel(title: title, user: UserView(session.user), csrf: sessions.csrfToken(for: session), nav: nav,
                         refresh: refresh, page: page)
    }

    /// The session of a signed-in request (the middleware let it through).
    private func session(_ request: Request) throws -> ConsoleSession {
        guard let value = request.cookies[ConsoleSessions.cookieName]?.value, let session = sessions.session(cookie: value) else {
            throw ConsolePageError(.unauthorized, "Signed out", "Your session ended. Sign in again.")
        }
        return session
    }

    /// The form's fields once its CSRF token is the session's; 403 otherwise.
    private func verifiedForm(_ form: [String: String], _ request: Request) throws -> (session: ConsoleSession, form: [String: String]) {
        let session = try session(request)
        guard sessions.isValidCSRF(form["csrf"] ?? "", for: session) else {
            throw ConsolePageError(.forbidden, "Form refused", "The form is missing its CSRF token or it is not this session's. Reload the page and retry.")
        }
        return (session, form)
    }

    /// An `application/x-www-form-urlencoded` body as fields (each once), at most `maxFormBytes`.
    static func form(_ request: Request, _ context: ServiceRequestContext) async throws -> [String: String] {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw ConsolePageError(.unsupportedMediaType, "Not a form", "Send the form as application/x-www-form-urlencoded.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxFormBytes)
        } catch {
            throw ConsolePageError(.contentTooLarge, "Form too large", "A form may hold at most \(maxFormBytes) bytes.")
        }
        var fields = [String: String]()
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.formDecoded(parts[0]), let value = Self.formDecoded(parts.count > 1 ? parts[1] : "") else {
                throw ConsolePageError(.badRequest, "Bad form", "The form is not valid URL encoding.")
            }
            guard fields[name] == nil else { throw ConsolePageError(.badRequest, "Bad form", "\(name) is given more than once.") }
            fields[name] = value
        }
        return fields
    }

    private static func formDecoded(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    static func require(_ context: ServiceRequestContext, runsEscalations: Bool) throws {
        let role = try context.requireIdentity().role.flatMap(ConsoleRole.init(rawValue:))
        guard role?.runsEscalations == true else {
            throw ConsolePageError(.forbidden, "Not allowed", "The escalation desk is for engineers and managers; you are signed in as \(role?.rawValue ?? "nobody").")
        }
    }

    private func html(_ status: HTTPResponse.Status, _ text: String) throws -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// A refusal shown as a page.
struct ConsolePageError: Error {
    var status: HTTPResponse.Status
    var heading: String
    var message: String

    init(_ status: HTTPResponse.Status, _ heading: String, _ message: String) {
        self.status = status
        self.heading = heading
        self.message = message
    }
}

/// What a board row change says on the wire.
struct RowChange: Encodable {
    var id: String
    var key: Int64?
    var html: String?
}

enum ServerSentEvent {
    static func make<T: Encodable>(_ event: String, json value: T) -> String {
        let data = (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "event: \(event)\ndata: \(data)\n\n"
    }
}

extension Response {
    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

/// Security headers on every console response: no framing, no sniffing, scripts and styles
/// only from the console itself.
struct ConsoleHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }
}

/// Lets a request through with a valid session cookie, its person as `context.identity`;
/// otherwise a page is redirected to the sign-in form and anything else is refused with 401.
struct ConsoleAuthentication: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let sessions: ConsoleSessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let value = request.cookies[ConsoleSessions.cookieName]?.value, let session = sessions.session(cookie: value) else {
            let path = request.uri.path
            if request.method == .get, !path.hasSuffix("/events"), !path.hasSuffix("/rows") {
                let next = request.uri.string.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                return Response.seeOther("/console/sign-in?next=\(next)")
            }
            return HTTPRefusal(.unauthorized, "signed_out", "Sign in to the console first (/console/sign-in).").response
        }
        var context = context
        context.identity = Caller(name: session.user.name, role: session.user.role.rawValue)
        return try await next(request, context)
    }
}
