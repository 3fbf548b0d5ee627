import ArgumentParser
import Foundation
import HelpdeskModel
import HistoryService
import HistoryStore
import Logging

/// `helpdesk bench history`: the history store's figures. The projector's work (decode a record,
/// keep a poll of 500 in one transaction) in events per second; then a store of `--tickets`
/// tickets over ten months, and the reads timed as the API's handlers do them (the query and
/// the JSON), without HTTP.
struct HistoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "The history store: projector events/s, reads at a million tickets, a month's report.")

    @Option(help: "sqlite:PATH or postgres://… (an empty store).")
    var store: String

    @Option(help: "Tickets in the store for the reads (spread over ten months).")
    var tickets = 1_000_000

    @Option(help: "Events timed for the projector's throughput.")
    var throughputEvents = 200_000

    @Option(help: "Records per poll, as the history service's PROCESSING_MAX_BATCH.")
    var batch = 2_000

    @Option(help: "Events per transaction while filling the rest of the store.")
    var fillBatch = 5_000

    func run() async throws {
        try await HistoryDatabase.withRunning(try HistoryDatabase.open(store, logger: Logger(label: "bench"))) { try await measure($0) }
    }

    /// Ticket `index`'s events as the services write them: received, classified, the clock, its
    /// outcome, and for most a resolution. One in eight stays open with its clock running.
    static func records(ofTicket index: Int, policy: SLAPolicy) -> [(topic: String, bytes: [UInt8])] {
        let base = Date(timeIntervalSince1970: 1_767_600_000)  // 2026-01-05
        let spacing = 26.3  // ten months over a million tickets: about 100,000 a month
        let opened = ISO8601.wholeSeconds(base.addingTimeInterval(Double(index) * spacing))
        let severity = Severity.allCases[index % 3]
        let externalId = "BENCH-\(index)"
        let ticketId = TicketID(source: "crm", externalId: externalId)
        func record<P: EventPayload>(_ topic: String, _ payload: P, at time: Date) -> (String, [UInt8]) {
            let event = Event(emittedBy: "bench", causedBy: "\(topic)/\(index)", ticketId: ticketId, source: "crm",
                              externalId: externalId, at: time, payload: payload)
            return (topic, try! WireJSON.encode(event))
        }
        let due = policy.firstResponseDue(severity: severity, openedAt: opened)
        var records = [
            record(Topics.received, TicketReceived(
                organizationId: "org-\(index % 200)", subject: "Ticket \(index): checkout fails for some users",
                description: String(repeating: "Details of the problem. ", count: 10), requester: Requester(email: "it@org.example"),
                reportedSeverity: severity, impact: nil, category: .incident, openedAt: opened, receivedAt: opened), at: opened),
            record(Topics.classified, TicketClassified(
                severity: severity, signals: [ClassificationSignal(signal: "multipleUsers", criterion: "multiple users",
                                                                   severity: .major, foundIn: "subject: \"some users\"")],
                confidence: 0.8, reportedSeverity: severity, disagreesWithReporter: false, needsDedicatedContact: false,
                openedAt: opened), at: opened),
            record(Topics.slaEvents, SLAStarted(severity: severity, startedAt: opened, dueAt: due), at: opened),
        ]
        if index % 8 == 7 { return records }
        if index % 5 == 4 {
            let late = due.addingTimeInterval(1_800)
            records.append(record(Topics.slaEvents, SLABreached(severity: severity, dueAt: due), at: due))
            records.append(record(Topics.slaEvents, SLARespondedAfterBreach(dueAt: due, respondedAt: late, businessSecondsLate: 1_800,
                                                                            businessSecondsUsed: 5_400), at: late))
        } else {
            let reply = opened.addingTimeInterval(600)
            records.append(record(Topics.slaEvents, SLAMet(dueAt: due, respondedAt: reply, businessSecondsUsed: 600), at: reply))
        }
        let solved = opened.addingTimeInterval(86_400)
        records.append(record(Topics.activity, TicketStatusChanged(status: .solved, changedAt: solved), at: solved))
        return records
    }

    /// Records of tickets `range`, decoded as the projector decodes them.
    static func events(_ range: Range<Int>, policy: SLAPolicy) -> [HistoryEvent] {
        range.flatMap { index in
            records(ofTicket: index, policy: policy).enumerated().map { offset, record in
                try! HistoryEvent(topic: record.topic, partition: 0, offset: Int64(index * 8 + offset), bytes: record.bytes)
            }
        }
    }

    func measure(_ store: any HistoryRepository) async throws {
        let policy = SLAPolicy.standard
        // Throughput: records already on the wire; decoding them is the projector's work.
        var wire = [(topic: String, bytes: [UInt8])]()
        var ticket = 0
        while wire.count < throughputEvents {
            wire += Self.records(ofTicket: ticket, policy: policy)
            ticket += 1
        }
        let started = ContinuousClock.now
        var decoding = Duration.zero
        for start in stride(from: 0, to: wire.count, by: batch) {
            let decodeStarted = ContinuousClock.now
            let events = wire[start..<min(start + batch, wire.count)].enumerated().map { offset, record in
                try! HistoryEvent(topic: record.topic, partition: 0, offset: Int64(start + offset), bytes: record.bytes)
            }
            decoding += ContinuousClock.now - decodeStarted
            try await store.apply(events)
        }
        let seconds = (ContinuousClock.now - started).timeInterval
        print("history_projector_events_per_second \(Int(Double(wire.count) / seconds))")
        print("history_projector_events \(wire.count)")
        print("history_projector_batch \(batch)")
        print("history_decode_share_percent \(Int(decoding.timeInterval / seconds * 100))")

        // The rest of the store, in larger transactions.
        let fillStarted = ContinuousClock.now
        let perBatch = max(1, fillBatch / 5)
        while ticket < tickets {
            let next = min(ticket + perBatch, tickets)
            try await store.apply(Self.events(ticket..<next, policy: policy))
            ticket = next
        }
        print("history_fill_seconds \(String(format: "%.1f", (ContinuousClock.now - fillStarted).timeInterval))")
        print("history_tickets \(tickets)")
        print("history_events \(try await store.eventCount())")

        // The same reads on every run.
        var generator = SeededRandom(seed: 2026)
        var ticketReads = [Double]()
        for _ in 0..<2_000 {
            let id = TicketID(source: "crm", externalId: "BENCH-\(Int.random(in: 0..<tickets, using: &generator))").rawValue
            let start = ContinuousClock.now
            guard let history = try await store.ticket(id) else { throw CLIError("ticket \(id) is missing") }
            _ = try WireJSON.encode(try TicketHistoryView(history))
            ticketReads.append((ContinuousClock.now - start).timeInterval * 1_000)
        }
        print("history_ticket_read_p50_ms \(Self.format(Self.percentile(50, ticketReads)))")
        print("history_ticket_read_p99_ms \(Self.format(Self.percentile(99, ticketReads)))")

        // Open-ticket pages: unfiltered and filtered, from the start and from anywhere in the list.
        let positions = try await store.openTickets(OpenTicketQuery(limit: 500)).tickets
            .map { PageCursor(key: $0.dueSortKey, ticketId: $0.ticketId) }
        var pageReads = [Double]()
        var pageSizes = 0
        for index in 0..<1_000 {
            var query = OpenTicketQuery(limit: 50)
            switch index % 5 {
            case 1: query.severity = .critical
            case 2: query.organizationId = "org-\(index % 200)"
            case 3: query.clock = .running
            case 4: query.severity = .minor; query.clock = .running
            default: break
            }
            if index % 2 == 1, !positions.isEmpty {
                query.after = positions[Int.random(in: 0..<positions.count, using: &generator)]
            } else if index % 4 == 2 {
                // Deep in the list: after a deadline months into the period.
                let due = Date(timeIntervalSince1970: 1_767_600_000 + Double(Int.random(in: 0..<tickets, using: &generator)) * 26.3)
                query.after = PageCursor(key: due.epochSeconds, ticketId: "tk_")
            }
            let start = ContinuousClock.now
            let page = try await store.openTickets(query)
            _ = try WireJSON.encode(PageView(page))
            pageReads.append((ContinuousClock.now - start).timeInterval * 1_000)
            pageSizes += page.tickets.count
        }
        print("history_open_page_p50_ms \(Self.format(Self.percentile(50, pageReads)))")
        print("history_open_page_p99_ms \(Self.format(Self.percentile(99, pageReads)))")
        print("history_open_page_mean_rows \(pageSizes / pageReads.count)")

        // A month's attainment: March 2026, about 100,000 tickets.
        let reports = HistoryReports(repository: store, calendar: policy.calendar)
        let march = try ReportPeriod(from: LocalDate(parsing: "2026-03-01")!, to: LocalDate(parsing: "2026-03-31")!, by: .week)
        var reportTimes = [Double]()
        var counted = 0
        for _ in 0..<5 {
            let start = ContinuousClock.now
            let report = try await reports.attainment(march)
            _ = try WireJSON.encode(report)
            reportTimes.append((ContinuousClock.now - start).timeInterval * 1_000)
            counted = report.rows.map(\.tickets).reduce(0, +)
        }
        print("history_attainment_month_tickets \(counted)")
        print("history_attainment_month_ms_max \(Self.format(reportTimes.max() ?? 0))")
        print("history_attainment_month_ms_median \(Self.format(Self.percentile(50, reportTimes)))")
    }

    /// The nearest-rank percentile of `values` (the benchmarks' `Array.percentile`), 0 when empty.
    static func percentile(_ p: Double, _ values: [Double]) -> Double { values.percentile(p / 100) ?? 0 }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
