import Foundation
import HelpdeskModel
import HistoryStore
import Hummingbird
import Logging
import Mustache
import ServiceLifecycle
import ServiceRuntime

/// The console's templates (package resources, compiled once at start).
struct ConsoleTemplates: Sendable {
    private let library: MustacheLibrary

    init() throws {
        var library = MustacheLibrary()
        let sources: [(String, [UInt8])] = [
            ("layout", PackageResources.layout_mustache), ("sign-in", PackageResources.sign_in_mustache),
            ("row", PackageResources.row_mustache), ("rows", PackageResources.rows_mustache),
            ("board", PackageResources.board_mustache), ("desk", PackageResources.desk_mustache),
            ("ticket", PackageResources.ticket_mustache), ("reports", PackageResources.reports_mustache),
            ("error", PackageResources.error_mustache),
        ]
        for (name, bytes) in sources { try library.register(String(decoding: bytes, as: UTF8.self), named: name) }
        self.library = library
    }

    func render(_ object: Any, _ template: String) -> String { library.render(object, withTemplate: template) ?? "" }
}

/// Rows of changed tickets, read once per committed batch and told to every open page; an empty
/// batch every `heartbeat` lets streams notice closed connections. It ends every stream when the
/// service shuts down, so that no open page holds the HTTP server up.
public final class ConsoleFeed: Service, Sendable {
    let repository: any HistoryRepository
    let rows = Broadcast<[TicketRecord]>()
    let heartbeat: Duration
    let logger: Logger

    public init(repository: any HistoryRepository, heartbeat: Duration = .seconds(15), logger: Logger) {
        self.repository = repository
        self.heartbeat = heartbeat
        self.logger = logger
    }

    func subscribe() -> AsyncStream<[TicketRecord]> { rows.subscribe() }

    public var listeners: Int { rows.listenerCount }

    public func run() async throws {
        let changes = repository.changes.subscribe()
        await withDiscardingTaskGroup { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    for await ids in changes {
                        do {
                            self.rows.publish(try await self.repository.tickets(Array(Set(ids))))
                        } catch {
                            self.logger.warning("the console could not read changed tickets", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
            group.addTask {
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.heartbeat) }
                    self.rows.publish([])
                }
            }
        }
        rows.finish()
    }
}

// MARK: View models (rendered by Mustache through reflection)

struct PageModel<Page> {
    var title: String
    var user: UserView?
    var csrf: String
    var nav: NavView
    var refresh: String?
    var page: Page
}

struct UserView {
    var name: String
    var role: String
    var desk: Bool

    init(_ user: ConsoleUser) {
        name = user.name
        role = user.role.rawValue
        desk = user.role.runsEscalations
    }
}

struct NavView {
    var board = false
    var desk = false
    var reports = false
}

struct Option {
    var value: String
    var label: String
    var selected: Bool
}

struct SignInPage {
    var error: String?
    var csrf: String
    var next: String
}

struct ErrorPage {
    var heading: String
    var message: String
}

/// The board's filters, from the query (an empty value is "all").
struct BoardFilters {
    var severity: Severity?
    var clock: ClockState?
    var escalation: EscalationState?
    var assignee: String?
    var after: PageCursor?

    init(_ request: Request) throws {
        let query = try Query(request, ignoringEmpty: true)
        try query.only(["severity", "clock", "escalation", "assignee", "after"])
        severity = try query.severity()
        clock = try query.wire("clock", ClockState.self)
        escalation = try query.wire("escalation", EscalationState.self)
        assignee = try query.text("assignee")
        after = try query.cursor()
    }

    func query(limit: Int) -> OpenTicketQuery {
        OpenTicketQuery(severity: severity, clock: clock, escalation: escalation, assignee: assignee, awaitingResponse: true,
                        limit: limit, after: after)
    }

    /// The filters as a query string, with `after` for a next page.
    func queryString(after: String? = nil) -> String {
        var items = [URLQueryItem]()
        if let severity { items.append(.init(name: "severity", value: severity.name)) }
        if let clock { items.append(.init(name: "clock", value: clock.rawValue)) }
        if let escalation { items.append(.init(name: "escalation", value: escalation.rawValue)) }
        if let assignee { items.append(.init(name: "assignee", value: assignee)) }
        if let after { items.append(.init(name: "after", value: after)) }
        var components = URLComponents()
        components.queryItems = items
        // `+` would read as a space in a query.
        return (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }
}

struct BoardPage {
    var severities: [Option]
    var clocks: [Option]
    var escalations: [Option]
    var assignee: String
    var rows: [BoardRow]
    var limit: Int
    var more: Bool
    var next: String?
    var eventsURL: String
    var rowsURL: String
    var hasRows: Bool

    init(filters: BoardFilters, rows: [BoardRow], limit: Int, more: Bool, next: String?) {
        severities = [Option(value: "", label: "All", selected: filters.severity == nil)]
            + Severity.allCases.map { Option(value: $0.name, label: ConsoleFormat.severity($0), selected: $0 == filters.severity) }
        clocks = [Option(value: "", label: "All", selected: filters.clock == nil)]
            + [ClockState.none, .running, .breached].map {
                Option(value: $0.rawValue, label: $0 == .none ? "not started" : $0.rawValue, selected: $0 == filters.clock)
            }
        escalations = [Option(value: "", label: "All", selected: filters.escalation == nil)]
            + EscalationState.allCases.map { Option(value: $0.rawValue, label: ConsoleFormat.escalation($0), selected: $0 == filters.escalation) }
        assignee = filters.assignee ?? ""
        self.rows = rows
        self.limit = limit
        self.more = more
        self.next = next
        let query = filters.queryString()
        var withoutAfter = filters
        withoutAfter.after = nil
        eventsURL = "/console/board/events" + (withoutAfter.queryString().isEmpty ? "" : "?" + withoutAfter.queryString())
        rowsURL = "/console/board/rows" + (query.isEmpty ? "" : "?" + query)
        hasRows = !rows.isEmpty
    }
}

/// (Mustache reads stored properties only: what a template shows is stored.)
struct DeskQueue {
    var state: String
    var title: String
    var rows: [BoardRow]
    var hasRows: Bool
    var count: String

    init(state: String, title: String, rows: [BoardRow], more: Bool) {
        self.state = state
        self.title = title
        self.rows = rows
        hasRows = !rows.isEmpty
        count = more ? "\(rows.count)+" : "\(rows.count)"
    }
}

struct DeskPage {
    var queues: [DeskQueue]
}

struct ReportsPage {
    var from: String
    var to: String
    var by: String
    var groupings: [Option]
    var timeZone: String
    var csvURL: String
    var metChart: String
    var distributionChart: String
    var breachChart: String
    var latenessChart: String
    var columns: [String]
    var cells: [[String]]
    var forecastCSVURL: String
    var forecastColumns: [String]
    var forecastCells: [[String]]
}

/// The escalation actions a form may post, and the command each makes.
enum EscalationAction: String {
    case request, evaluate, escalate, conditions, deEscalate = "de-escalate"

    func command(_ form: [String: String], actor: EscalationActor) throws -> EscalationCommand {
        switch self {
        case .request: return .request(by: actor, via: .api)
        case .escalate: return .escalate(by: actor)
        case .deEscalate: return .deEscalate(by: actor)
        case .evaluate:
            return .evaluate(engineer: try Self.text(form["engineer"], "engineer", lineBreaks: false), by: actor)
        case .conditions:
            guard let condition = form["condition"].flatMap(DeEscalationCondition.init(rawValue:)) else {
                throw ConsolePageError(.badRequest, "Bad form", "condition must be one of \(DeEscalationCondition.allowedValues).")
            }
            let note = form["note"].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
            return .recordCondition(condition, by: actor, note: try note.map { try Self.text($0, "note", lineBreaks: true) })
        }
    }

    /// The escalation API's rules for its text fields (`EscalationCommandText`).
    private static func text(_ value: String?, _ field: String, lineBreaks: Bool) throws -> String {
        let trimmed = (value ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if let problem = EscalationCommandText.problem(trimmed, allowingLineBreaks: lineBreaks) {
            throw ConsolePageError(.badRequest, "Bad form", "\(field) \(problem).")
        }
        return trimmed
    }
}

/// A ticket's page: its row, due instant, escalation checklist, actions and timeline.
struct TicketPageView {
    struct Due {
        var iso: String
        var utc: String
        var mountain: String
        var left: String
    }

    struct Condition {
        var condition: String
        var label: String
        var recorded: Bool
        var by: String?
        var at: String?
        var iso: String?
        var note: String?
    }

    struct Escalation {
        var state: String
        var engineer: String?
        var conditions: [Condition]
    }

    struct Record {
        var base: String
        var csrf: String
        var commandId: String
        var condition: String
        var label: String
    }

    struct Form {
        var base: String
        var csrf: String
        var commandId: String
        var engineer: String = ""
        var missing: String? = nil
    }

    struct Actions {
        var request: Form?
        var evaluate: Form?
        var escalate: Form?
        var record: [Record]
        var deEscalate: Form?
    }

    struct Entry {
        var iso: String
        var utc: String
        var type: String
        var kind: String
        var summary: String
        var details: [String]
        var hasDetails: Bool
    }

    struct Notice {
        var kind: String
        var text: String
    }

    /// The latest instance of a metric beyond the first response, folded from the timeline.
    struct Metric {
        var name: String
        var instance: String
        var state: String
        var due: String?
        var dueISO: String?
    }

    var ticketId: String
    var source: String
    var externalId: String
    var requester: String
    var row: BoardRow
    var due: Due?
    var escalation: Escalation
    var actions: Actions?
    var timeline: [Entry]
    var notice: Notice?
    var metrics: [Metric]
    var hasMetrics: Bool
    /// What the customer was told of the first response, when the forecast was beyond the target.
    var told: String?

    static let refusals: Set<String> = ["escalation.deEscalationRefused", "escalation.commandRefused", "escalation.requestRefused"]

    init(_ history: TicketHistory, policy: SLAPolicy, now: Date, forecast: ForecastLedger.Entry? = nil, user: ConsoleUser,
         csrf: String, sent: String?, newCommandID: () -> String) {
        let ticket = history.ticket
        ticketId = ticket.ticketId
        source = ticket.source
        externalId = ticket.externalId
        requester = ticket.requesterEmail ?? "—"
        row = BoardRow(ticket, policy: policy, now: now, forecast: forecast)
        let zone = TimeZone(identifier: policy.calendar.timeZoneIdentifier) ?? TimeZone(secondsFromGMT: 0)!
        if ticket.customerTold, let expectedAt = ticket.expectedAt {
            told = "an answer by \(ConsoleFormat.instant(expectedAt, in: zone)), beyond the target (the queue and the staffing)"
        }
        if let dueAt = ticket.dueAt {
            due = Due(iso: ConsoleFormat.iso(dueAt), utc: ConsoleFormat.instant(dueAt, in: TimeZone(secondsFromGMT: 0)!),
                      mountain: ConsoleFormat.instant(dueAt, in: zone) + " (\(zone.identifier))",
                      left: ticket.respondedAt != nil ? "answered" : row.clock.text)
        }
        let bodies = history.timeline.map { (entry: $0, body: (try? JSONParser.parse(Array($0.body.utf8))) ?? .null) }
        var recorded = [DeEscalationCondition: (by: String, at: Date, note: String?)]()
        for (entry, body) in bodies where entry.type == "escalation.conditionRecorded" {
            if let condition = body["condition"]?.text.flatMap(DeEscalationCondition.init(rawValue:)) {
                recorded[condition] = (body["by"]?.text ?? "?", entry.at, body["note"]?.text)
            }
        }
        escalation = Escalation(
            state: ConsoleFormat.escalation(ticket.escalation), engineer: ticket.escalationEngineer,
            conditions: DeEscalationCondition.allCases.map { condition in
                let done = ticket.conditions.contains(condition)
                let record = done ? recorded[condition] : nil
                return Condition(condition: condition.rawValue, label: ConsoleFormat.words(condition.rawValue), recorded: done,
                                 by: record?.by, at: record.map { ConsoleFormat.instant($0.at, in: zone) },
                                 iso: record.map { ConsoleFormat.iso($0.at) }, note: record?.note)
            })
        let base = row.href + "/escalation"
        func form() -> Form { Form(base: base, csrf: csrf, commandId: newCommandID()) }
        if user.role != .reader {
            let state = ticket.escalation
            let runs = user.role.runsEscalations
            let missing = DeEscalationCondition.allCases.filter { !ticket.conditions.contains($0) }
            var evaluate = form()
            evaluate.engineer = ticket.escalationEngineer ?? user.name
            var deEscalate = form()
            deEscalate.missing = missing.isEmpty ? nil : missing.map { ConsoleFormat.words($0.rawValue) }.joined(separator: ", ")
            actions = Actions(
                request: (state == .none || state == .deEscalated) && ticket.disposition == .support ? form() : nil,
                evaluate: runs && state == .requested ? evaluate : nil,
                escalate: runs && state == .evaluating ? form() : nil,
                record: runs && state == .escalated
                    ? missing.map { Record(base: base, csrf: csrf, commandId: newCommandID(), condition: $0.rawValue,
                                           label: ConsoleFormat.words($0.rawValue)) }
                    : [],
                deEscalate: runs && state == .escalated ? deEscalate : nil)
        }
        metrics = Self.metrics(bodies.map { ($0.entry.type, $0.body) }, zone: zone)
        hasMetrics = !metrics.isEmpty
        timeline = bodies.map { entry, body in
            let details = Self.details(type: entry.type, body: body)
            return Entry(iso: ConsoleFormat.iso(entry.at), utc: ConsoleFormat.instant(entry.at, in: TimeZone(secondsFromGMT: 0)!), type: entry.type,
                  kind: Self.refusals.contains(entry.type) ? "refused" : "event", summary: entry.summary,
                  details: details, hasDetails: !details.isEmpty)
        }
        if let sent {
            if let (entry, _) = bodies.last(where: { $0.body["causedBy"]?.text == sent }) {
                notice = Self.refusals.contains(entry.type)
                    ? Notice(kind: "refused", text: "Refused: \(entry.summary)")
                    : Notice(kind: "done", text: "Done: \(entry.summary)")
            } else {
                notice = Notice(kind: "pending", text: "Sent. Waiting for the escalation service to apply it; this page updates when it has.")
            }
        }
    }

    /// Each further metric's latest instance and its state, from its events in order.
    static func metrics(_ events: [(type: String, body: JSONValue)], zone: TimeZone) -> [Metric] {
        let states = ["sla.started": "running", "sla.warning": "running (warned)", "sla.recalculated": "running", "sla.paused": "paused",
                      "sla.resumed": "running", "sla.met": "met", "sla.breached": "breached", "sla.stopped": "stopped"]
        var latest = [String: (instance: Int, state: String, due: Date?)]()
        var order = [String]()
        for (type, body) in events {
            guard let state = states[type], let metric = body["metric"]?.text, metric != SLAMetric.firstResponse.rawValue else { continue }
            var instance = 0
            if case .number(let number, _)? = body["instance"] { instance = Int(number) }
            let due = body["dueAt"]?.text.flatMap(ISO8601.parse)
            if let known = latest[metric] {
                guard instance >= known.instance else { continue }
                let keepsDue = instance == known.instance && type != "sla.paused"
                latest[metric] = (instance, state, type == "sla.paused" ? nil : due ?? (keepsDue ? known.due : nil))
            } else {
                order.append(metric)
                latest[metric] = (instance, state, due)
            }
        }
        return order.map { metric in
            let (instance, state, due) = latest[metric]!
            let open = state.hasPrefix("running")
            return Metric(name: ConsoleFormat.words(metric), instance: instance == 0 ? "" : "#\(instance)", state: state,
                          due: open ? due.map { ConsoleFormat.instant($0, in: zone) } : nil, dueISO: open ? due.map(ConsoleFormat.iso) : nil)
        }
    }

    /// What an event says beyond its summary, for people: the classifier's signals and the
    /// criteria they met; other events' fields. A message's text is never shown, only its metadata.
    static func details(type: String, body: JSONValue) -> [String] {
        guard case .object(let members) = body else { return [] }
        if type == "ticket.classified" {
            var lines = [String]()
            if case .array(let signals)? = members["signals"] {
                for signal in signals {
                    lines.append("Signal “\(signal["signal"]?.text ?? "?")” in \(signal["foundIn"]?.text ?? "?") meets "
                        + "“\(signal["criterion"]?.text ?? "?")” (\(signal["severity"]?.text ?? "?"))")
                }
            }
            if case .number(let confidence, _)? = members["confidence"] { lines.append(String(format: "Confidence %.0f%%", confidence * 100)) }
            if let reported = members["reportedSeverity"]?.text { lines.append("Reported as \(reported)") }
            return lines
        }
        let skipped: Set<String> = ["eventId", "type", "ticketId", "source", "externalId", "at", "body", "text", "subject", "description", "signals"]
        return members.keys.sorted().filter { !skipped.contains($0) }.compactMap { key in
            let value: String
            switch members[key]! {
            case .string(let text): value = text
            case .number(_, let text): value = text
            case .bool(let flag): value = flag ? "yes" : "no"
            case .array(let items): value = items.compactMap(\.text).joined(separator: ", ")
            case .null, .object: return nil
            }
            return value.isEmpty ? nil : "\(key): \(value.count > 300 ? String(value.prefix(300)) + "…" : value)"
        }
    }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var text: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
