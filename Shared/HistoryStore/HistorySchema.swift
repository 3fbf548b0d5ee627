import Foundation
import HelpdeskModel

/// A value bound to or read from a column, the same for both databases.
public enum SQLValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case real(Double)
    case null
}

/// The schema both databases share, as versioned migrations: version n's statements run once,
/// in order, in one transaction with the version's row. Add a version; never edit one.
public enum HistorySchema {
    public static let migrations: [(version: Int, statements: [String])] = [
        (1, [
            """
            CREATE TABLE events (
                event_id TEXT PRIMARY KEY,
                ticket_id TEXT NOT NULL,
                type TEXT NOT NULL,
                at BIGINT NOT NULL,
                stage INTEGER NOT NULL,
                topic TEXT NOT NULL,
                record_partition INTEGER NOT NULL,
                record_offset BIGINT NOT NULL,
                summary TEXT NOT NULL,
                body TEXT NOT NULL
            )
            """,
            "CREATE INDEX events_by_ticket ON events (ticket_id, at, stage)",
            """
            CREATE TABLE tickets (
                \(TicketColumns.version1.map { "\($0.name) \($0.kind.sqlType)\($0.nullable ? "" : " NOT NULL")" }.joined(separator: ",\n    ")),
                PRIMARY KEY (ticket_id)
            )
            """,
            "CREATE INDEX tickets_open ON tickets (due_sort, ticket_id) WHERE is_open = 1",
            "CREATE INDEX tickets_open_by_organization ON tickets (organization_id, due_sort, ticket_id) WHERE is_open = 1",
            "CREATE INDEX tickets_open_by_escalation ON tickets (escalation, due_sort, ticket_id) WHERE is_open = 1",
            "CREATE INDEX tickets_breached ON tickets (due_at, ticket_id) WHERE clock = 'breached'",
            "CREATE INDEX tickets_closed_clocks ON tickets (started_at) WHERE clock IN ('met', 'breached')",
        ]),
        // The classifier's reasons on the board. Rows classified before it keep none until a rebuild.
        (2, ["ALTER TABLE tickets ADD COLUMN classifier_reasons TEXT"]),
        // The forecaster's word on each ticket (`sla.forecast`), for the board and the forecast
        // report. A new input of the group: read from the earliest record the topic keeps.
        (3, TicketColumns.version3.map { "ALTER TABLE tickets ADD COLUMN \($0.name) \($0.kind.sqlType)" }),
    ]

    /// The columns a timeline entry is read from, in `TimelineEntry`'s order.
    static let timelineSelect = "SELECT event_id, type, at, topic, summary, body FROM events WHERE ticket_id = ? "
        + "ORDER BY at, stage, topic, record_partition, record_offset"

    static let ticketSelect = "SELECT \(TicketColumns.names) FROM tickets"

    static let eventColumns = "event_id, ticket_id, type, at, stage, topic, record_partition, record_offset, summary, body"
    static let eventColumnCount = 10

    static let eventInsert = "INSERT INTO events (\(eventColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        + "ON CONFLICT (event_id) DO NOTHING"

    static let ticketUpsert = "INSERT INTO tickets (\(TicketColumns.names)) VALUES (\(TicketColumns.all.map { _ in "?" }.joined(separator: ", "))) "
        + "ON CONFLICT (ticket_id) DO UPDATE SET "
        + TicketColumns.all.dropFirst().map { "\($0.name) = excluded.\($0.name)" }.joined(separator: ", ")

    static func eventValues(_ event: HistoryEvent) -> [SQLValue] {
        [.text(event.eventId), .text(event.ticketId), .text(event.type), .integer(event.at.epochSeconds),
         .integer(Int64(event.stage)), .text(event.topic),
         .integer(Int64(event.partition)), .integer(event.offset), .text(event.summary), .text(event.body)]
    }

    static func timelineEntry(_ values: [SQLValue]) throws -> TimelineEntry {
        var reader = ColumnReader(values: values)
        return TimelineEntry(
            eventId: try reader.text(), type: try reader.text(), at: try reader.date(), topic: try reader.text(),
            summary: try reader.text(), body: try reader.text())
    }

    /// The open-ticket page's query and its parameters (`?` placeholders).
    static func openTickets(_ query: OpenTicketQuery) -> (sql: String, parameters: [SQLValue]) {
        var conditions = ["is_open = 1"]
        var parameters = [SQLValue]()
        if let severity = query.severity {
            conditions.append("severity = ?")
            parameters.append(.integer(Int64(severity.level)))
        }
        if let clock = query.clock {
            conditions.append("clock = ?")
            parameters.append(.text(clock.rawValue))
        }
        if let organization = query.organizationId {
            conditions.append("organization_id = ?")
            parameters.append(.text(organization))
        }
        if let escalation = query.escalation {
            conditions.append("escalation = ?")
            parameters.append(.text(escalation.rawValue))
        }
        if query.awaitingResponse { conditions.append("responded_at IS NULL AND clock <> 'met'") }
        if let assignee = query.assignee {
            conditions.append("COALESCE(assigned_to, opened_assignee) = ?")
            parameters.append(.text(assignee))
        }
        if let after = query.after {
            // A row value, which both databases read as one range of the index.
            conditions.append("(due_sort, ticket_id) > (?, ?)")
            parameters += [.integer(after.key), .text(after.ticketId)]
        }
        parameters.append(.integer(Int64(query.limit + 1)))
        return ("\(ticketSelect) WHERE \(conditions.joined(separator: " AND ")) ORDER BY due_sort, ticket_id LIMIT ?", parameters)
    }

    static func breaches(_ query: BreachQuery) -> (sql: String, parameters: [SQLValue]) {
        var conditions = ["clock = 'breached'", "due_at >= ?", "due_at < ?"]
        var parameters: [SQLValue] = [.integer(query.range.lowerBound.epochSeconds), .integer(query.range.upperBound.epochSeconds)]
        if let after = query.after {
            conditions.append("(due_at, ticket_id) > (?, ?)")
            parameters += [.integer(after.key), .text(after.ticketId)]
        }
        parameters.append(.integer(Int64(query.limit + 1)))
        return ("\(ticketSelect) WHERE \(conditions.joined(separator: " AND ")) ORDER BY due_at, ticket_id LIMIT ?", parameters)
    }

    static let attainmentSelect = "SELECT clock_severity, started_at, clock, business_seconds_to_respond, business_seconds_late, "
        + "due_at, responded_at, expected_at, customer_told, first_at_risk_at, first_forecast_at "
        + "FROM tickets WHERE clock IN ('met', 'breached') AND started_at >= ? AND started_at < ?"

    static func attainmentSample(_ values: [SQLValue]) throws -> AttainmentSample? {
        var reader = ColumnReader(values: values)
        guard let severity = try reader.severity() else { return nil }
        var sample = AttainmentSample(
            severity: severity, startedAt: try reader.date(), breached: try reader.text() == ClockState.breached.rawValue,
            businessSecondsToRespond: try reader.optionalInt(), businessSecondsLate: try reader.optionalInt())
        sample.dueAt = try reader.optionalDate()
        sample.respondedAt = try reader.optionalDate()
        sample.expectedAt = try reader.optionalDate()
        sample.customerTold = try reader.optionalInt() == 1
        sample.firstAtRiskAt = try reader.optionalDate()
        sample.firstForecastAt = try reader.optionalDate()
        return sample
    }

    /// A page from rows fetched with `limit + 1`: the extra row only says there is a next page.
    static func page(_ rows: [TicketRecord], limit: Int, key: (TicketRecord) -> Int64) -> TicketPage {
        guard rows.count > limit else { return TicketPage(tickets: rows, next: nil) }
        let tickets = Array(rows.prefix(limit))
        return TicketPage(tickets: tickets, next: tickets.last.map { PageCursor(key: key($0), ticketId: $0.ticketId) })
    }
}

/// The reads both SQL stores answer alike, given a way to run a query.
public protocol SQLHistoryStore: HistoryRepository {
    /// The rows of `sql` (`?` placeholders) with `parameters` bound, as column values.
    func rows(_ sql: String, _ parameters: [SQLValue]) async throws -> [[SQLValue]]
}

extension SQLHistoryStore {
    public func openTickets(_ query: OpenTicketQuery) async throws -> TicketPage {
        let (sql, parameters) = HistorySchema.openTickets(query)
        return HistorySchema.page(try await tickets(sql, parameters), limit: query.limit) { $0.dueSortKey }
    }

    public func breaches(_ query: BreachQuery) async throws -> TicketPage {
        let (sql, parameters) = HistorySchema.breaches(query)
        return HistorySchema.page(try await tickets(sql, parameters), limit: query.limit) { $0.dueAt?.epochSeconds ?? 0 }
    }

    public func attainmentSamples(startedIn range: Range<Date>) async throws -> [AttainmentSample] {
        try await rows(HistorySchema.attainmentSelect, [.integer(range.lowerBound.epochSeconds), .integer(range.upperBound.epochSeconds)])
            .compactMap(HistorySchema.attainmentSample)
    }

    public func tickets(_ ticketIds: [String]) async throws -> [TicketRecord] {
        var rows = [TicketRecord]()
        for start in stride(from: 0, to: ticketIds.count, by: 500) {
            let chunk = ticketIds[start..<min(start + 500, ticketIds.count)]
            let list = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            rows += try await tickets("\(HistorySchema.ticketSelect) WHERE ticket_id IN (\(list))", chunk.map { .text($0) })
        }
        return rows
    }

    public func allTickets() async throws -> [TicketRecord] {
        try await tickets("\(HistorySchema.ticketSelect) ORDER BY ticket_id", [])
    }

    public func eventCount() async throws -> Int {
        guard case .integer(let count) = try await rows("SELECT COUNT(*) FROM events", []).first?.first else { return 0 }
        return Int(count)
    }

    func tickets(_ sql: String, _ parameters: [SQLValue]) async throws -> [TicketRecord] {
        try await rows(sql, parameters).map(TicketColumns.record)
    }
}

/// Folds a batch's new events into the rows they belong to: the part of `apply` both
/// databases share. `existing` holds the rows already stored for the batch's tickets.
enum HistoryFold {
    static func rows(existing: [String: TicketRecord], newEvents: [HistoryEvent]) -> [TicketRecord] {
        var rows = existing
        for event in newEvents {
            var row = rows[event.ticketId]
                ?? TicketRecord(ticketId: event.ticketId, source: event.source, externalId: event.externalId)
            row.apply(event.fact, at: event.at)
            rows[event.ticketId] = row
        }
        let touched = Set(newEvents.map(\.ticketId))
        return touched.sorted().compactMap { rows[$0] }
    }
}

/// The ticket row's columns, in one place for the schema, the writes and the reads.
enum TicketColumns {
    enum Kind {
        case text, integer, real
        var sqlType: String {
            switch self {
            case .text: "TEXT"
            case .integer: "BIGINT"
            case .real: "DOUBLE PRECISION"
            }
        }
    }

    struct Column {
        let name: String
        let kind: Kind
        let nullable: Bool
    }

    /// Every column, in the order rows are written and read.
    static let all: [Column] = version1 + [
        .init(name: "classifier_reasons", kind: .text, nullable: true),
    ] + version3

    /// The columns migration 3 added.
    static let version3: [Column] = [
        .init(name: "expected_at", kind: .integer, nullable: true),
        .init(name: "customer_told", kind: .integer, nullable: true),
        .init(name: "at_risk_episodes", kind: .integer, nullable: true),
        .init(name: "at_risk", kind: .integer, nullable: true),
        .init(name: "first_at_risk_at", kind: .integer, nullable: true),
        .init(name: "first_forecast_at", kind: .integer, nullable: true),
    ]

    /// The columns migration 1 created (a migration never changes).
    static let version1: [Column] = [
        .init(name: "ticket_id", kind: .text, nullable: false),
        .init(name: "source", kind: .text, nullable: false),
        .init(name: "external_id", kind: .text, nullable: false),
        .init(name: "organization_id", kind: .text, nullable: true),
        .init(name: "subject", kind: .text, nullable: true),
        .init(name: "requester_email", kind: .text, nullable: true),
        .init(name: "opened_at", kind: .integer, nullable: true),
        .init(name: "disposition", kind: .text, nullable: false),
        .init(name: "reported_severity", kind: .integer, nullable: true),
        .init(name: "classified_severity", kind: .integer, nullable: true),
        .init(name: "confidence", kind: .real, nullable: true),
        .init(name: "changed_severity", kind: .integer, nullable: true),
        .init(name: "severity_changed_by", kind: .text, nullable: true),
        .init(name: "opened_assignee", kind: .text, nullable: true),
        .init(name: "assigned_to", kind: .text, nullable: true),
        .init(name: "status", kind: .text, nullable: true),
        .init(name: "clock", kind: .text, nullable: false),
        .init(name: "clock_severity", kind: .integer, nullable: true),
        .init(name: "started_at", kind: .integer, nullable: true),
        .init(name: "due_at", kind: .integer, nullable: true),
        .init(name: "warned_at", kind: .integer, nullable: true),
        .init(name: "responded_at", kind: .integer, nullable: true),
        .init(name: "resolved_at", kind: .integer, nullable: true),
        .init(name: "business_seconds_to_respond", kind: .integer, nullable: true),
        .init(name: "business_seconds_late", kind: .integer, nullable: true),
        .init(name: "stop_reason", kind: .text, nullable: true),
        .init(name: "escalation", kind: .text, nullable: false),
        .init(name: "escalation_engineer", kind: .text, nullable: true),
        .init(name: "conditions", kind: .text, nullable: false),
        .init(name: "last_event_at", kind: .integer, nullable: true),
        .init(name: "event_count", kind: .integer, nullable: false),
        // Derived, for the queries' filters and indexes.
        .init(name: "severity", kind: .integer, nullable: true),
        .init(name: "is_open", kind: .integer, nullable: false),
        .init(name: "due_sort", kind: .integer, nullable: false),
    ]

    static let names = all.map(\.name).joined(separator: ", ")

    static func values(_ row: TicketRecord) -> [SQLValue] {
        func text(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
        func date(_ value: Date?) -> SQLValue { value.map { .integer($0.epochSeconds) } ?? .null }
        func int(_ value: Int?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
        func severity(_ value: Severity?) -> SQLValue { int(value?.level) }
        return [
            .text(row.ticketId), .text(row.source), .text(row.externalId), text(row.organizationId), text(row.subject),
            text(row.requesterEmail), date(row.openedAt), .text(row.disposition.rawValue), severity(row.reportedSeverity),
            severity(row.classifiedSeverity), row.confidence.map { .real($0) } ?? .null, severity(row.changedSeverity),
            text(row.severityChangedBy), text(row.openedAssignee), text(row.assignedTo), text(row.status?.rawValue),
            .text(row.clock.rawValue), severity(row.clockSeverity), date(row.startedAt), date(row.dueAt), date(row.warnedAt),
            date(row.respondedAt), date(row.resolvedAt), int(row.businessSecondsToRespond), int(row.businessSecondsLate),
            text(row.stopReason), .text(row.escalation.rawValue), text(row.escalationEngineer),
            .text(row.conditions.map(\.rawValue).joined(separator: ",")), date(row.lastEventAt), .integer(Int64(row.eventCount)),
            severity(row.severity), .integer(row.isOpen ? 1 : 0), .integer(row.dueSortKey), text(row.classifierReasons),
            date(row.expectedAt), .integer(row.customerTold ? 1 : 0), .integer(Int64(row.atRiskEpisodes)),
            .integer(row.atRisk ? 1 : 0), date(row.firstAtRiskAt), date(row.firstForecastAt),
        ]
    }

    static func record(_ values: [SQLValue]) throws -> TicketRecord {
        var reader = ColumnReader(values: values)
        var row = TicketRecord(ticketId: try reader.text(), source: try reader.text(), externalId: try reader.text())
        row.organizationId = try reader.optionalText()
        row.subject = try reader.optionalText()
        row.requesterEmail = try reader.optionalText()
        row.openedAt = try reader.optionalDate()
        row.disposition = try reader.wire(TicketDisposition.self)
        row.reportedSeverity = try reader.severity()
        row.classifiedSeverity = try reader.severity()
        row.confidence = try reader.optionalReal()
        row.changedSeverity = try reader.severity()
        row.severityChangedBy = try reader.optionalText()
        row.openedAssignee = try reader.optionalText()
        row.assignedTo = try reader.optionalText()
        row.status = try reader.optionalText().map { text in
            guard let status = TicketStatus(rawValue: text) else { throw HistoryStoreError.corruptRow("status \(text)") }
            return status
        }
        row.clock = try reader.wire(ClockState.self)
        row.clockSeverity = try reader.severity()
        row.startedAt = try reader.optionalDate()
        row.dueAt = try reader.optionalDate()
        row.warnedAt = try reader.optionalDate()
        row.respondedAt = try reader.optionalDate()
        row.resolvedAt = try reader.optionalDate()
        row.businessSecondsToRespond = try reader.optionalInt()
        row.businessSecondsLate = try reader.optionalInt()
        row.stopReason = try reader.optionalText()
        row.escalation = try reader.wire(EscalationState.self)
        row.escalationEngineer = try reader.optionalText()
        row.conditions = try reader.text().split(separator: ",").map { name in
            guard let condition = DeEscalationCondition(rawValue: String(name)) else {
                throw HistoryStoreError.corruptRow("condition \(name)")
            }
            return condition
        }
        row.lastEventAt = try reader.optionalDate()
        row.eventCount = try reader.optionalInt() ?? 0
        // The derived columns (severity, is_open, due_sort) are not read back.
        _ = try reader.optionalInt()
        _ = try reader.optionalInt()
        _ = try reader.optionalInt()
        row.classifierReasons = try reader.optionalText()
        row.expectedAt = try reader.optionalDate()
        row.customerTold = try reader.optionalInt() == 1
        row.atRiskEpisodes = try reader.optionalInt() ?? 0
        row.atRisk = try reader.optionalInt() == 1
        row.firstAtRiskAt = try reader.optionalDate()
        row.firstForecastAt = try reader.optionalDate()
        return row
    }
}

public enum HistoryStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case corruptRow(String)
    case badURL(String)
    case newerSchema(Int)

    public var description: String {
        switch self {
        case .corruptRow(let what): "a stored row does not read back: \(what)"
        case .badURL(let why): why
        case .newerSchema(let version): "the database's schema is version \(version), newer than this build knows: upgrade the service"
        }
    }
}

/// Reads a row's values in column order.
struct ColumnReader {
    let values: [SQLValue]
    var index = 0

    private mutating func next() throws -> SQLValue {
        guard index < values.count else { throw HistoryStoreError.corruptRow("\(values.count) columns, wanted more") }
        defer { index += 1 }
        return values[index]
    }

    mutating func optionalText() throws -> String? {
        switch try next() {
        case .text(let text): return text
        case .null: return nil
        case let other: throw HistoryStoreError.corruptRow("column \(index - 1): text expected, found \(other)")
        }
    }

    mutating func text() throws -> String {
        guard let text = try optionalText() else { throw HistoryStoreError.corruptRow("column \(index - 1) is null") }
        return text
    }

    mutating func optionalInteger() throws -> Int64? {
        switch try next() {
        case .integer(let value): return value
        case .null: return nil
        case let other: throw HistoryStoreError.corruptRow("column \(index - 1): integer expected, found \(other)")
        }
    }

    mutating func optionalInt() throws -> Int? { try optionalInteger().map { Int($0) } }

    mutating func optionalReal() throws -> Double? {
        switch try next() {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        case .null: return nil
        case let other: throw HistoryStoreError.corruptRow("column \(index - 1): real expected, found \(other)")
        }
    }

    mutating func optionalDate() throws -> Date? { try optionalInteger().map { Date(timeIntervalSince1970: Double($0)) } }

    mutating func date() throws -> Date {
        guard let date = try optionalDate() else { throw HistoryStoreError.corruptRow("column \(index - 1) is null") }
        return date
    }

    mutating func severity() throws -> Severity? {
        guard let level = try optionalInteger() else { return nil }
        guard let severity = Severity(rawValue: Int(level)) else { throw HistoryStoreError.corruptRow("severity \(level)") }
        return severity
    }

    mutating func wire<T: WireEnum>(_ type: T.Type) throws -> T {
        let text = try text()
        guard let value = T(rawValue: text) else { throw HistoryStoreError.corruptRow("\(T.self) \(text)") }
        return value
    }
}
