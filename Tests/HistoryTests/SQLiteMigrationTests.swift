import Foundation
import GRDB
import HelpdeskModel
@testable import HistoryStore
import Testing

/// The SQLite store's migrations: several openers of one new file at once (the service and
/// `helpdesk report`, a replay and its check) all end with every migration applied once, and a
/// file of version 1 is upgraded in place.
@Suite("history store migrations on SQLite")
struct SQLiteMigrationTests {
    @Test func openersRacingOnANewFileAllSucceed() async throws {
        for _ in 0..<20 {
            let folder = NSTemporaryDirectory() + "migrate-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let path = folder + "/history.sqlite"
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try SQLiteHistory(path: path) } }
                try await group.waitForAll()
            }
            let versions = try await DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
            #expect(versions == HistorySchema.migrations.map { "v\($0.version)" })
        }
    }

    @Test func aVersionOneFileIsUpgradedAndItsRowsReadBack() async throws {
        let folder = NSTemporaryDirectory() + "migrate-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/history.sqlite"
        // A store as version 1 left it, with a row.
        var ticket = TicketEvents("M-1")
        let opened = Date(timeIntervalSince1970: 1_790_000_000)
        var row = TicketRecord(ticketId: ticket.ticketId.rawValue, source: "crm", externalId: "M-1")
        row.apply(.classified(TicketClassified(severity: .critical, signals: [], confidence: 0.9, reportedSeverity: nil,
                                               disagreesWithReporter: false, needsDedicatedContact: false, openedAt: opened)), at: opened)
        let stored = row
        try await DatabaseQueue(path: path).write { db in
            for statement in HistorySchema.migrations[0].statements { try db.execute(sql: statement) }
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v1')")
            let values = Array(TicketColumns.values(stored).prefix(TicketColumns.version1.count))
            try db.execute(sql: "INSERT INTO tickets (\(TicketColumns.version1.map(\.name).joined(separator: ", "))) VALUES "
                + "(\(values.map { _ in "?" }.joined(separator: ", ")))", arguments: StatementArguments(values.map { value -> DatabaseValue in
                    switch value {
                    case .text(let text): text.databaseValue
                    case .integer(let number): number.databaseValue
                    case .real(let number): number.databaseValue
                    case .null: .null
                    }
                }))
        }
        let store = try SQLiteHistory(path: path)
        #expect(try await store.allTickets() == [row], "the old row reads back, without reasons")
        let opened2 = opened.addingTimeInterval(60)
        try await store.apply([ticket.received(at: opened2), ticket.classified(.critical, openedAt: opened2, at: opened2)])
        #expect(try await store.allTickets().first?.classifierReasons == "service down", "new events fill the new column")
    }
}
