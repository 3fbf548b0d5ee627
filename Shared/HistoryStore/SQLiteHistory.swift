import Foundation
import GRDB
import HelpdeskModel

/// The history store in a SQLite file (GRDB): the embedded default of `helpdesk dev` and of a
/// single-machine install. WAL mode, so reads go on while the projector writes; every
/// transaction is synced before `apply` returns. One projector process writes a file.
public final class SQLiteHistory: SQLHistoryStore {
    private let pool: DatabasePool
    public let changes = TicketChanges()

    /// Opens (creating it and its folder if needed) and migrates the file at `path`.
    public init(path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Durable when a transaction returns, across a power loss too: offsets are
            // committed to Kafka only after it.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Pages read through a memory map and a 64 MiB cache per connection, not copied in by
            // a system call each time (measured in `helpdesk bench history`).
            try db.execute(sql: "PRAGMA mmap_size = 1073741824")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        pool = try Self.open(path, configuration)
        try Self.migrate(pool)
    }

    /// Opens the pool. Processes opening a new file at once race to switch it to WAL, and
    /// SQLite answers the losers `SQLITE_BUSY` at once, without its busy handler: they try again
    /// for as long as the busy timeout would have waited.
    private static func open(_ path: String, _ configuration: Configuration) throws -> DatabasePool {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    /// Applies the migrations the file lacks, all in one exclusive transaction: another process
    /// opening the same file at once (the service and `helpdesk report`, a replay and its check)
    /// waits for it, then finds them applied. Versions are kept in GRDB's `grdb_migrations`
    /// table, as `v1`, `v2`…; a file with a newer one is refused.
    private static func migrate(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.exclusive) {
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
                if let newest = applied.compactMap({ Int($0.dropFirst()) }).max(), let known = HistorySchema.migrations.last?.version,
                   newest > known {
                    throw HistoryStoreError.newerSchema(newest)
                }
                for migration in HistorySchema.migrations where !applied.contains("v\(migration.version)") {
                    for statement in migration.statements { try db.execute(sql: statement) }
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: ["v\(migration.version)"])
                }
                return .commit
            }
        }
    }

    public func apply(_ events: [HistoryEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        let (count, changed) = try await pool.write { db -> (Int, [String]) in
            let insert = try db.cachedStatement(sql: HistorySchema.eventInsert)
            var new = [HistoryEvent]()
            new.reserveCapacity(events.count)
            for event in events {
                try insert.execute(arguments: Self.arguments(HistorySchema.eventValues(event)))
                if db.changesCount > 0 { new.append(event) }
            }
            guard !new.isEmpty else { return (0, []) }
            var existing = [String: TicketRecord]()
            let select = try db.cachedStatement(sql: "\(HistorySchema.ticketSelect) WHERE ticket_id = ?")
            let changed = Array(Set(new.map(\.ticketId)))
            for ticketId in changed {
                if let row = try Row.fetchOne(select, arguments: [ticketId]) {
                    existing[ticketId] = try TicketColumns.record(Self.values(row))
                }
            }
            let upsert = try db.cachedStatement(sql: HistorySchema.ticketUpsert)
            for row in HistoryFold.rows(existing: existing, newEvents: new) {
                try upsert.execute(arguments: Self.arguments(TicketColumns.values(row)))
            }
            return (new.count, changed)
        }
        if !changed.isEmpty { changes.publish(changed) }
        return count
    }

    public func ticket(_ ticketId: String) async throws -> TicketHistory? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "\(HistorySchema.ticketSelect) WHERE ticket_id = ?", arguments: [ticketId])
            else { return nil }
            let timeline = try Row.fetchAll(db, sql: HistorySchema.timelineSelect, arguments: [ticketId])
                .map { try HistorySchema.timelineEntry(Self.values($0)) }
            return TicketHistory(ticket: try TicketColumns.record(Self.values(row)), timeline: timeline)
        }
    }

    public func rows(_ sql: String, _ parameters: [SQLValue]) async throws -> [[SQLValue]] {
        try await pool.read { db in try Row.fetchAll(db, sql: sql, arguments: Self.arguments(parameters)).map(Self.values) }
    }

    private static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(values.map { value -> DatabaseValue in
            switch value {
            case .text(let text): text.databaseValue
            case .integer(let number): number.databaseValue
            case .real(let number): number.databaseValue
            case .null: .null
            }
        })
    }

    private static func values(_ row: Row) -> [SQLValue] {
        row.databaseValues.map { value in
            switch value.storage {
            case .null: .null
            case .int64(let number): .integer(number)
            case .double(let number): .real(number)
            case .string(let text): .text(text)
            case .blob(let data): .text(String(decoding: data, as: UTF8.self))
            }
        }
    }
}
