import Foundation
import HelpdeskModel
import HistoryStore
import Hummingbird
import Logging
import ServiceRuntime

/// The history's read API (docs/history.openapi.yaml): a ticket with its timeline, open
/// tickets by time left, breaches in a period, attainment per severity and week or month.
public struct HistoryAPI: Sendable {
    let repository: any HistoryRepository
    let reports: HistoryReports
    let tokens: NamedSecrets
    let logger: Logger

    /// `tokens` (`HISTORY_API_TOKENS`, `name=token` pairs) may read; nothing else may.
    public init(repository: any HistoryRepository, policy: SLAPolicy, tokens: NamedSecrets, logger: Logger) {
        self.repository = repository
        reports = HistoryReports(repository: repository, calendar: policy.calendar)
        self.tokens = tokens
        self.logger = logger
    }

    public func addRoutes(to router: Router<ServiceRequestContext>) {
        let tokens = self.tokens
        for path in ["v1/tickets/:ticketId", "v1/open-tickets", "v1/breaches", "v1/reports/attainment", "v1/reports/forecast"] {
            MethodRefusal.refuseOthers(on: router, RouterPath(path), allowing: [.get])
        }
        OpenAPIRoute.add(PackageResources.openapi_yaml, to: router)
        let api = router.group("v1")
            .add(middleware: SecretAuthenticator.bearerTokens { tokens.name(for: $0).map { Caller(name: $0) } })
        api.get("tickets/:ticketId") { request, context in
            try await answer {
                try Query(request).only([])
                let ticketId = try PathParameter.decoded("ticketId", in: context)
                guard !ticketId.unicodeScalars.contains("\u{0}") else {
                    throw HTTPRefusal(.badRequest, "invalid_parameter", "ticketId must not hold NUL.")
                }
                guard ticketId.utf8.count <= HistoryEvent.longestIdentifier, let history = try await repository.ticket(ticketId) else {
                    throw HTTPRefusal(.notFound, "unknown_ticket", "No event of ticket \(ticketId) is in the history.")
                }
                return try JSONReply.value(TicketHistoryView(history))
            }
        }
        api.get("open-tickets") { request, _ in
            try await answer {
                let query = try Query(request)
                try query.only(["severity", "clock", "organization", "escalation", "assignee", "limit", "after"])
                let page = try await repository.openTickets(OpenTicketQuery(
                    severity: try query.severity(), clock: try query.wire("clock", ClockState.self),
                    organizationId: try query.text("organization"), escalation: try query.wire("escalation", EscalationState.self),
                    assignee: try query.text("assignee"), limit: try query.limit(default: 50, max: OpenTicketQuery.maxLimit), after: try query.cursor()))
                return try JSONReply.value(PageView(page))
            }
        }
        api.get("breaches") { request, _ in
            try await answer {
                let query = try Query(request)
                try query.only(["from", "to", "limit", "after"])
                let period = try query.period(grouping: .month)
                let page = try await repository.breaches(BreachQuery(
                    range: period.instants(in: reports.calendar), limit: try query.limit(default: 100, max: 1_000),
                    after: try query.cursor()))
                return try JSONReply.value(PageView(page))
            }
        }
        func periodReport<R: PeriodReport>(_ name: String, _ type: R.Type) {
            api.get("reports/\(name)") { request, _ in
                try await answer {
                    let query = try Query(request)
                    try query.only(["from", "to", "by"])
                    let grouping = try query.wire("by", ReportPeriod.Grouping.self) ?? .week
                    return try JSONReply.value(try await reports.report(R.self, try query.period(grouping: grouping)))
                }
            }
        }
        periodReport("attainment", AttainmentReport.self)
        periodReport("forecast", ForecastReport.self)
    }

    /// The handler's response; a refusal as its 4xx, a database failure as 503.
    private func answer(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let refusal as HTTPRefusal {
            return refusal.response
        } catch {
            logger.warning("a history read failed", metadata: ["error": "\(error)"])
            return HTTPRefusal(.serviceUnavailable, "database_unavailable", "The history database did not answer. Retry later.").response
        }
    }
}

/// A request's query parameters, each allowed once, checked against what the route takes.
struct Query {
    private var values: [String: String] = [:]

    /// `ignoringEmpty`: a parameter given empty counts as not given (an HTML form's "All").
    init(_ request: Request, ignoringEmpty: Bool = false) throws {
        for (name, value) in request.uri.queryParameters {
            let name = String(name)
            if ignoringEmpty, value.isEmpty { continue }
            guard values[name] == nil else {
                throw HTTPRefusal(.badRequest, "invalid_parameter", "\(name) is given more than once.")
            }
            values[name] = String(value)
        }
    }

    subscript(name name: String) -> String? { values[name] }

    func only(_ allowed: Set<String>) throws {
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            let takes = allowed.isEmpty ? "no parameters" : allowed.sorted().joined(separator: ", ")
            throw HTTPRefusal(.badRequest, "invalid_parameter", "\(unknown) is not a parameter here; this route takes \(takes).")
        }
    }

    func text(_ name: String) throws -> String? {
        guard let value = values[name] else { return nil }
        guard (1...200).contains(value.unicodeScalars.count), !value.unicodeScalars.contains("\u{0}") else {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "\(name) must be 1 to 200 characters, none of them NUL.")
        }
        return value
    }

    func wire<T: WireEnum>(_ name: String, _ type: T.Type) throws -> T? {
        guard let value = values[name] else { return nil }
        guard let parsed = T(rawValue: value) else {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "\(name) must be one of \(T.allowedValues).")
        }
        return parsed
    }

    func severity() throws -> Severity? {
        guard let value = values["severity"] else { return nil }
        guard let severity = Severity.allCases.first(where: { $0.name == value }) else {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "severity must be one of critical|major|minor.")
        }
        return severity
    }

    func limit(default fallback: Int, max: Int) throws -> Int {
        guard let value = values["limit"] else { return fallback }
        guard let limit = Int(value), (1...max).contains(limit), value.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "limit must be an integer from 1 to \(max).")
        }
        return limit
    }

    func cursor() throws -> PageCursor? {
        guard let value = values["after"] else { return nil }
        guard let cursor = PageCursor(token: value) else {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "after must be a page's next position, <key>~<ticketId>.")
        }
        return cursor
    }

    func date(_ name: String) throws -> LocalDate {
        guard let value = values[name] else {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "\(name) is required (a date, YYYY-MM-DD).")
        }
        guard let date = LocalDate(parsing: value) else {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "\(name) must be a date, YYYY-MM-DD.")
        }
        return date
    }

    func period(grouping: ReportPeriod.Grouping) throws -> ReportPeriod {
        let from = try date("from")
        let to = try date("to")
        do {
            return try ReportPeriod(from: from, to: to, by: grouping)
        } catch {
            throw HTTPRefusal(.badRequest, "invalid_parameter", "\(error).")
        }
    }
}

/// A ticket as the API shows it.
public struct TicketView: Encodable, Sendable {
    public struct Clock: Encodable, Sendable {
        var state: String
        var severity: String?
        var startedAt: Date?
        var dueAt: Date?
        var warnedAt: Date?
        var respondedAt: Date?
        var resolvedAt: Date?
        var businessSecondsToRespond: Int?
        var businessSecondsLate: Int?
        var stopReason: String?
    }

    /// What the forecaster said of the first response; absent when it said nothing.
    public struct Forecast: Encodable, Sendable {
        var expectedAt: Date?
        var customerTold: Bool
        var atRisk: Bool
        var atRiskEpisodes: Int
        var firstAtRiskAt: Date?
    }

    public struct Escalation: Encodable, Sendable {
        var state: String
        var engineer: String?
        var conditions: [String]
        var missing: [String]
    }

    var ticketId: String
    var source: String
    var externalId: String
    var organizationId: String?
    var subject: String?
    var requesterEmail: String?
    var openedAt: Date?
    var disposition: String
    var open: Bool
    var status: String?
    var severity: String?
    var severitySetBy: String?
    var classifiedSeverity: String?
    var reportedSeverity: String?
    var confidence: Double?
    var assignee: String?
    var clock: Clock
    var forecast: Forecast?
    var escalation: Escalation
    var lastEventAt: Date?
    var events: Int

    public init(_ row: TicketRecord) {
        ticketId = row.ticketId
        source = row.source
        externalId = row.externalId
        organizationId = row.organizationId
        subject = row.subject
        requesterEmail = row.requesterEmail
        openedAt = row.openedAt
        disposition = row.disposition.rawValue
        open = row.isOpen
        status = row.status?.rawValue
        severity = row.severity?.name
        severitySetBy = row.severitySetBy
        classifiedSeverity = row.classifiedSeverity?.name
        reportedSeverity = row.reportedSeverity?.name
        confidence = row.confidence
        assignee = row.assignee
        clock = Clock(
            state: row.clock.rawValue, severity: row.clockSeverity?.name, startedAt: row.startedAt, dueAt: row.dueAt,
            warnedAt: row.warnedAt, respondedAt: row.respondedAt, resolvedAt: row.resolvedAt,
            businessSecondsToRespond: row.businessSecondsToRespond, businessSecondsLate: row.businessSecondsLate,
            stopReason: row.stopReason)
        if row.expectedAt != nil || row.atRiskEpisodes > 0 {
            forecast = Forecast(expectedAt: row.expectedAt, customerTold: row.customerTold, atRisk: row.isAtRisk,
                                atRiskEpisodes: row.atRiskEpisodes, firstAtRiskAt: row.firstAtRiskAt)
        }
        escalation = Escalation(
            state: row.escalation.rawValue, engineer: row.escalationEngineer, conditions: row.conditions.map(\.rawValue),
            missing: row.escalation == .none ? [] : DeEscalationCondition.allCases.filter { !row.conditions.contains($0) }.map(\.rawValue))
        lastEventAt = row.lastEventAt
        events = row.eventCount
    }
}

public struct TicketHistoryView: Encodable, Sendable {
    public struct Entry: Encodable, Sendable {
        var eventId: String
        var type: String
        var at: Date
        var topic: String
        var summary: String
        var event: JSONValue
    }

    var ticket: TicketView
    var timeline: [Entry]

    public init(_ history: TicketHistory) throws {
        ticket = TicketView(history.ticket)
        timeline = try history.timeline.map { entry in
            Entry(eventId: entry.eventId, type: entry.type, at: entry.at, topic: entry.topic, summary: entry.summary,
                  event: try JSONParser.parse(Array(entry.body.utf8)))
        }
    }
}

public struct PageView: Encodable, Sendable {
    var tickets: [TicketView]
    var next: String?

    public init(_ page: TicketPage) {
        tickets = page.tickets.map(TicketView.init)
        next = page.next?.token
    }
}
