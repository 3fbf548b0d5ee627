import Foundation
import HelpdeskModel
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The history store in PostgreSQL (postgres-nio): for compose, and for running several
/// projectors and readers on several machines. Projectors that own different partitions may
/// fold events of one ticket at once: each batch locks its tickets' rows (in ticket id order,
/// so two batches never wait on each other in a circle) before it reads them.
public final class PostgresHistory: SQLHistoryStore {
    private let client: PostgresClient
    private let logger: Logger
    public let changes = TicketChanges()
    /// The channel each commit's changed ticket ids are sent on, a line each.
    static let changesChannel = "helpdesk_history_tickets"
    /// A notification's payload stays under PostgreSQL's 8,000 bytes.
    static let payloadBytes = 7_000
    /// The migration under way or done; a failed one is forgotten, so the next call tries again.
    private let migration = Mutex<Task<Void, any Error>?>(nil)
    /// Rows per multi-row statement: 41 columns × 1,000 stays under PostgreSQL's 65,535 binds.
    static let rowsPerStatement = 1_000

    /// A client for `url`; nothing connects until `run()` runs (a `Service` of the group) and
    /// `migrate()` is called.
    public init(url: String, logger: Logger) throws {
        client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the connection pool, and a connection listening for every instance's commits,
    /// until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.client.run() }
            group.addTask { await self.listen() }
        }
    }

    /// Tells `changes` what each commit changed, reconnecting after a failure.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await ready()
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.changesChannel) { notifications in
                        for try await notification in notifications {
                            changes.publish(notification.payload.split(separator: "\n").map(String.init))
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for the history's changes failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The ids as notification payloads, a line each, each payload under `payloadBytes`.
    static func payloads(_ ticketIds: [String]) -> [String] {
        var payloads = [String]()
        var current = ""
        for id in ticketIds {
            if !current.isEmpty, current.utf8.count + id.utf8.count + 1 > payloadBytes {
                payloads.append(current)
                current = ""
            }
            current += current.isEmpty ? id : "\n\(id)"
        }
        if !current.isEmpty { payloads.append(current) }
        return payloads
    }

    /// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    static func configuration(_ text: String) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql",
              let host = url.host, !host.isEmpty, let user = url.user, !user.isEmpty
        else {
            throw HistoryStoreError.badURL("not a postgres://user[:password]@host[:port]/database URL")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        let tls: PostgresClient.Configuration.TLS
        switch url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer" {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        case let other: throw HistoryStoreError.badURL("sslmode \(other): use disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user, password: url.password,
            database: database.isEmpty ? nil : database, tls: tls)
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// Migrates once, before the first query: every method waits for it.
    public func ready() async throws {
        let task = migration.withLock { task in
            if let task { return task }
            let made = Task { try await self.migrate() }
            task = made
            return made
        }
        do {
            try await task.value
        } catch {
            migration.withLock { if $0 == task { $0 = nil } }
            throw error
        }
    }

    /// Applies the migrations this build knows and the database lacks, in one transaction,
    /// under an advisory lock so that instances starting together migrate once.
    private func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(7215470419)", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: self.logger)
            var applied = -1
            for try await version in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                                                                logger: self.logger).decode(Int.self) {
                applied = version
            }
            if let known = HistorySchema.migrations.last?.version, applied > known { throw HistoryStoreError.newerSchema(applied) }
            for migration in HistorySchema.migrations where migration.version > applied {
                for statement in migration.statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger) }
                let now = Int64(Date().timeIntervalSince1970)
                try await connection.query("INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(now))",
                                           logger: self.logger)
            }
        }
    }

    public func apply(_ events: [HistoryEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        try await ready()
        return try await client.withTransaction(logger: logger) { connection in
            var inserted = Set<String>()
            // In id order, so that two projectors inserting the same events (a rebalance hands a
            // batch on) take the index's locks in the same order.
            for chunk in Self.chunks(events.sorted { $0.eventId < $1.eventId }) {
                let sql = "INSERT INTO events (\(HistorySchema.eventColumns)) VALUES "
                    + "\(Self.placeholders(rows: chunk.count, columns: HistorySchema.eventColumnCount)) "
                    + "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
                for try await id in try await connection.query(
                    Self.query(sql, chunk.flatMap(HistorySchema.eventValues)), logger: self.logger
                ).decode(String.self) {
                    inserted.insert(id)
                }
            }
            // The first occurrence of each new id; a later copy in the same batch is a duplicate.
            var new = [HistoryEvent]()
            for event in events where inserted.remove(event.eventId) != nil { new.append(event) }
            guard !new.isEmpty else { return 0 }
            // Byte order, as the lock query's COLLATE "C": rows are locked in one order by all.
            let ticketIds = Set(new.map(\.ticketId)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            // Every row exists before it is locked, so that two projectors never both create one.
            let placeholders = new.reduce(into: [String: TicketRecord]()) { rows, event in
                rows[event.ticketId] = rows[event.ticketId]
                    ?? TicketRecord(ticketId: event.ticketId, source: event.source, externalId: event.externalId)
            }
            for chunk in Self.chunks(ticketIds) {
                let sql = "INSERT INTO tickets (\(TicketColumns.names)) VALUES "
                    + "\(Self.placeholders(rows: chunk.count, columns: TicketColumns.all.count)) ON CONFLICT (ticket_id) DO NOTHING"
                try await connection.query(Self.query(sql, chunk.flatMap { TicketColumns.values(placeholders[$0]!) }),
                                           logger: self.logger)
            }
            var existing = [String: TicketRecord]()
            for chunk in Self.chunks(ticketIds) {
                let sql = "\(HistorySchema.ticketSelect) WHERE ticket_id IN (\(Self.list(chunk.count))) "
                    + "ORDER BY ticket_id COLLATE \"C\" FOR UPDATE"
                for try await row in try await connection.query(Self.query(sql, chunk.map { .text($0) }), logger: self.logger) {
                    let record = try TicketColumns.record(try Self.values(row))
                    existing[record.ticketId] = record
                }
            }
            for chunk in Self.chunks(HistoryFold.rows(existing: existing, newEvents: new)) {
                let sql = HistorySchema.ticketUpsert.replacingOccurrences(
                    of: "VALUES (\(TicketColumns.all.map { _ in "?" }.joined(separator: ", ")))",
                    with: "VALUES \(Self.placeholders(rows: chunk.count, columns: TicketColumns.all.count))")
                try await connection.query(Self.query(sql, chunk.flatMap(TicketColumns.values)), logger: self.logger)
            }
            // Delivered to every listener when (and only if) the transaction commits.
            for payload in Self.payloads(ticketIds) {
                try await connection.query("SELECT pg_notify(\(Self.changesChannel), \(payload))", logger: self.logger)
            }
            return new.count
        }
    }

    /// The row and the timeline from one snapshot, so that they agree.
    public func ticket(_ ticketId: String) async throws -> TicketHistory? {
        try await ready()
        return try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
            do {
                var record: TicketRecord?
                for try await row in try await connection.query(
                    Self.query("\(HistorySchema.ticketSelect) WHERE ticket_id = ?", [.text(ticketId)]), logger: self.logger) {
                    record = try TicketColumns.record(try Self.values(row))
                }
                var timeline = [TimelineEntry]()
                if record != nil {
                    for try await row in try await connection.query(
                        Self.query(HistorySchema.timelineSelect, [.text(ticketId)]), logger: self.logger) {
                        timeline.append(try HistorySchema.timelineEntry(try Self.values(row)))
                    }
                }
                try await connection.query("COMMIT", logger: self.logger)
                return record.map { TicketHistory(ticket: $0, timeline: timeline) }
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    public func rows(_ sql: String, _ parameters: [SQLValue]) async throws -> [[SQLValue]] {
        try await ready()
        var result = [[SQLValue]]()
        for try await row in try await client.query(Self.query(sql, parameters), logger: logger) {
            result.append(try Self.values(row))
        }
        return result
    }

    /// `sql` with its `?` marks numbered as PostgreSQL wants them (`$1`, `$2`, …) and `values` bound.
    static func query(_ sql: String, _ values: [SQLValue]) -> PostgresQuery {
        var numbered = ""
        numbered.reserveCapacity(sql.utf8.count + values.count * 3)
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                numbered += "$\(index)"
            } else {
                numbered.append(character)
            }
        }
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .integer(let number): bindings.append(number)
            case .real(let number): bindings.append(number)
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: numbered, binds: bindings)
    }

    static func values(_ row: PostgresRow) throws -> [SQLValue] {
        try row.map { cell -> SQLValue in
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
            case .float4, .float8, .numeric: return .real(try cell.decode(Double.self))
            default: return .text(try cell.decode(String.self))
            }
        }
    }

    private static func list(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    /// `(?, ?), (?, ?)` for rows × columns.
    private static func placeholders(rows: Int, columns: Int) -> String {
        let row = "(\(list(columns)))"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }

    private static func chunks<T>(_ items: [T]) -> [ArraySlice<T>] {
        stride(from: 0, to: items.count, by: rowsPerStatement).map { items[$0..<min($0 + rowsPerStatement, items.count)] }
    }
}
