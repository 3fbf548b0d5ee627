import ArgumentParser
import Foundation
import HelpdeskModel
import HistoryService
import HistoryStore
import Logging
import ServiceLifecycle
import ServiceRuntime

/// `helpdesk report`: the history store's reports, read from the database directly with the
/// code the history service's API uses, so both always give the same figures.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports from the history store (the history service's database).",
        subcommands: [Attainment.self, Forecast.self, Breaches.self, Ticket.self])

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    struct StoreOptions: ParsableArguments {
        @Option(help: "sqlite:PATH or postgres://user:password@host:port/database (default: $HISTORY_DATABASE_URL, else \(HistoryDatabase.defaultURL)).")
        var database: String?

        @OptionGroup var policy: SLACommand.PolicyOption

        /// Runs `body` on the store, with PostgreSQL's pool running beside it.
        func withStore<T: Sendable>(_ body: (any HistoryRepository) async throws -> T) async throws -> T {
            let url = database ?? ProcessInfo.processInfo.environment["HISTORY_DATABASE_URL"] ?? HistoryDatabase.defaultURL
            if url.hasPrefix("sqlite:"), !FileManager.default.fileExists(atPath: String(url.dropFirst("sqlite:".count))) {
                throw CLIError("no history store at \(url) (is the history service running with HISTORY_DATABASE_URL=\(url)?)")
            }
            let opened: (repository: any HistoryRepository, services: [any Service])
            do {
                opened = try HistoryDatabase.open(url, logger: Logger(label: "helpdesk"))
            } catch {
                throw CLIError("--database \(SecretURL.redacted(url)): \(error)")
            }
            return try await HistoryDatabase.withRunning(opened, body)
        }
    }

    struct PeriodOptions: ParsableArguments {
        @Option(help: "The first local date (policy's time zone), YYYY-MM-DD.")
        var from: String

        @Option(help: "The last local date, YYYY-MM-DD (included).")
        var to: String

        func period(by grouping: ReportPeriod.Grouping) throws -> ReportPeriod {
            guard let from = LocalDate(parsing: from) else { throw CLIError("--from \"\(from)\" is not a date (YYYY-MM-DD)") }
            guard let to = LocalDate(parsing: to) else { throw CLIError("--to \"\(to)\" is not a date (YYYY-MM-DD)") }
            do {
                return try ReportPeriod(from: from, to: to, by: grouping)
            } catch {
                throw CLIError("\(error)")
            }
        }
    }

    /// A per-severity report over weeks or months, printed as a table, CSV or JSON.
    struct PeriodReportOptions: ParsableArguments {
        @OptionGroup var period: PeriodOptions
        @Option(help: "week|month.") var by: String = "week"
        @Option(help: "table|csv|json.") var format: Format = .table
        @OptionGroup var store: StoreOptions

        func print<R: PeriodReport>(
            _ title: String, note: String, _ make: @Sendable (HistoryReports, ReportPeriod) async throws -> R
        ) async throws {
            guard let grouping = ReportPeriod.Grouping(rawValue: by) else { throw CLIError("--by \"\(by)\" is not week or month") }
            let period = try self.period.period(by: grouping)
            let calendar = try store.policy.load().calendar
            let report = try await store.withStore { try await make(HistoryReports(repository: $0, calendar: calendar), period) }
            switch format {
            case .json: Swift.print(String(decoding: try WireJSON.encode(report), as: UTF8.self))
            case .csv, .table:
                if format == .table {
                    Swift.print("\(title) \(report.from) to \(report.to) by \(report.by), \(report.timeZone); \(note)")
                }
                Swift.print(ReportTable.render(header: R.columns, rows: report.cells(durationsInSeconds: format == .csv), format: format))
            }
        }
    }

    struct Attainment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "First-response attainment per severity and week or month: met %, median and p90 business time to respond, breaches.")
        @OptionGroup var options: PeriodReportOptions

        func run() async throws {
            try await options.print("First-response attainment", note: "times are business time") { try await $0.attainment($1) }
        }
    }

    struct Forecast: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The workload forecast against what happened: expectation error, customers told, at-risk precision and recall.")
        @OptionGroup var options: PeriodReportOptions

        func run() async throws {
            try await options.print("Forecast against outcome", note: "errors are business time; a breach is flagged in time an hour ahead or on arrival") {
                try await $0.forecast($1)
            }
        }
    }

    struct Breaches: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tickets whose first-response deadline passed unmet in a period.")
        @OptionGroup var period: PeriodOptions
        @Option(help: "table|csv|json.") var format: Format = .table
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let period = try self.period.period(by: .month)
            let calendar = try store.policy.load().calendar
            let tickets = try await store.withStore { repository in
                var all = [TicketRecord]()
                var cursor: PageCursor?
                repeat {
                    let page = try await repository.breaches(BreachQuery(range: period.instants(in: calendar), limit: 1_000, after: cursor))
                    all += page.tickets
                    cursor = page.next
                } while cursor != nil
                return all
            }
            if format == .json {
                print(String(decoding: try WireJSON.encode(tickets.map(TicketView.init)), as: UTF8.self))
                return
            }
            let header = ["ticket", "organization", "severity", "due", "responded", "late", "subject"]
            let rows = tickets.map { row in
                ["\(row.source)/\(row.externalId)", row.organizationId ?? "", row.clockSeverity?.name ?? "",
                 row.dueAt.map(ISO8601.format) ?? "", row.respondedAt.map(ISO8601.format) ?? "not yet",
                 AttainmentReport.duration(row.businessSecondsLate, inSeconds: format == .csv), row.subject ?? ""]
            }
            print(ReportTable.render(header: header, rows: rows, format: format))
        }
    }

    struct Ticket: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A ticket's state and its timeline: who did what, and when.")
        @Argument(help: "source/externalId (crm/CRM-1) or a ticket id (tk_…).") var ticket: String
        @Option(help: "table|json.") var format: Format = .table
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let ticketId: String
            if ticket.hasPrefix("tk_") {
                ticketId = ticket
            } else if let slash = ticket.firstIndex(of: "/"), slash != ticket.startIndex, slash != ticket.index(before: ticket.endIndex) {
                ticketId = TicketID(source: String(ticket[..<slash]), externalId: String(ticket[ticket.index(after: slash)...])).rawValue
            } else {
                throw CLIError("\"\(ticket)\" is neither source/externalId nor a tk_ ticket id")
            }
            guard let history = try await store.withStore({ try await $0.ticket(ticketId) }) else {
                throw CLIError("no event of \(ticket) (\(ticketId)) is in the history")
            }
            if format == .json {
                print(String(decoding: try WireJSON.encode(try TicketHistoryView(history)), as: UTF8.self))
                return
            }
            let row = history.ticket
            print(TerminalText.escaped("\(row.source)/\(row.externalId) (\(row.ticketId)) \(row.subject.map { "\"\($0)\"" } ?? "")"))
            print("  \(row.disposition.rawValue), \(row.isOpen ? "open" : "closed"), severity \(row.severity?.name ?? "none")"
                + (row.severitySetBy.map { " set by \($0)" } ?? ""))
            print("  clock \(row.clock.rawValue)" + (row.dueAt.map { ", due \(ISO8601.format($0))" } ?? "")
                + (row.businessSecondsToRespond.map { ", answered after \(AttainmentReport.duration($0, inSeconds: false)) business time" } ?? "")
                + (row.businessSecondsLate.map { ", \(AttainmentReport.duration($0, inSeconds: false)) late" } ?? ""))
            print("  escalation \(row.escalation.rawValue)" + (row.conditions.isEmpty ? "" : ", conditions: \(row.conditions.map(\.rawValue).joined(separator: ", "))"))
            print(ReportTable.render(
                header: ["at", "event", "what"],
                rows: history.timeline.map { [ISO8601.format($0.at), $0.type, $0.summary] }, format: format == .csv ? .csv : .table))
        }
    }
}

/// A report's rows as an aligned table or as RFC 4180 CSV.
enum ReportTable {
    static func render(header: [String], rows: [[String]], format: ReportCommand.Format) -> String {
        if format == .csv { return CSV.render(header: header, rows: rows) }
        // Text from tickets reaches a terminal: control characters are shown escaped.
        let rows = rows.map { $0.map(TerminalText.escaped) }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n")
    }
}
