import Foundation
import HelpdeskModel
import HistoryStore
import Testing
import TestSupport

/// One contract, every store: what the projector and the readers rely on, run against SQLite
/// (GRDB) and a real PostgreSQL server (`scripts/postgres-server.sh`).
@Suite("history store contract")
struct HistoryContractTests {
    /// Runs `body` on a fresh store of `backend`.
    func withStore(_ backend: Backend, _ body: (any HistoryRepository) async throws -> Void) async throws {
        let store = try await StoreUnderTest(backend)
        defer { store.close() }
        try await body(store.store)
    }

    @Test(arguments: Backend.allCases)
    func aTicketReadsBackWithItsRowAndItsTimelineInEventOrder(backend: Backend) async throws {
        try await withStore(backend) { store in
            var ticket = TicketEvents("CRM-1")
            let opened = at("2026-11-02T16:00:00Z")
            let due = at("2026-11-02T17:00:00Z")
            // The SLA event arrives first: topics are read in any order.
            let events = [
                ticket.started(.critical, at: opened, due: due),
                ticket.received(at: opened),
                ticket.classified(.critical, openedAt: opened, at: opened.addingTimeInterval(1)),
                ticket.met(at: opened.addingTimeInterval(1_200), due: due, used: 1_200),
            ]
            #expect(try await store.apply(events) == 4)
            let history = try #require(try await store.ticket(ticket.ticketId.rawValue))
            let row = history.ticket
            #expect(row.source == "crm" && row.externalId == "CRM-1" && row.organizationId == "acme")
            #expect(row.subject == "VPN down" && row.requesterEmail == "pat@acme.example")
            #expect(row.disposition == .support && row.severity == .critical && row.severitySetBy == "classifier")
            #expect(row.clock == .met && row.dueAt == due && row.businessSecondsToRespond == 1_200)
            #expect(row.assignee == "ana@support.example" && row.confidence == 0.875 && row.eventCount == 4)
            #expect(row.isOpen, "met, but not solved")
            #expect(history.timeline.map(\.type) == ["ticket.received", "sla.started", "ticket.classified", "sla.met"])
            #expect(history.timeline[2].summary.contains("classified critical, confidence 0.88: service down"))
            #expect(history.timeline.allSatisfy { $0.body.contains("\"eventId\"") }, "the event as it came")
            #expect(try await store.ticket("tk_000000000000000000000000") == nil)
        }
    }

    /// The forecaster's word (`sla.forecast`) on the row and the timeline, and in the samples the
    /// reports read: the first expectation, whether the customer heard it, the at-risk episodes.
    @Test(arguments: Backend.allCases)
    func theForecastersWordIsKeptAndReadByTheReports(backend: Backend) async throws {
        try await withStore(backend) { store in
            var late = TicketEvents("CRM-F1")
            let opened = at("2026-11-02T16:00:00Z")
            let due = at("2026-11-02T17:00:00Z")
            let expected = at("2026-11-02T17:40:00Z")
            var events = [
                late.received(at: opened), late.classified(.critical, openedAt: opened, at: opened),
                late.started(.critical, at: opened, due: due),
                late.expected(.critical, at: opened, expected: expected, due: due, told: true),
                late.atRisk(.critical, episode: 1, at: opened, expected: expected, due: due),
            ]
            #expect(try await store.apply(events) == 5)
            var row = try #require(try await store.ticket(late.ticketId.rawValue)).ticket
            #expect(row.expectedAt == expected && row.customerTold && row.isAtRisk && row.atRiskEpisodes == 1)
            #expect(row.firstAtRiskAt == opened && row.firstForecastAt == opened)
            // Cleared, at risk again, then the breach: the row keeps the first risk, no open state.
            events = [
                late.atRiskCleared(.critical, episode: 1, at: opened.addingTimeInterval(600), expected: due, due: due),
                late.atRisk(.critical, episode: 2, at: opened.addingTimeInterval(1_200), expected: expected, due: due),
                late.breached(.critical, due: due),
                late.lateResponse(at: expected.addingTimeInterval(300), due: due, late: 2_700, used: 6_300),
            ]
            try await store.apply(events)
            let history = try #require(try await store.ticket(late.ticketId.rawValue))
            row = history.ticket
            #expect(row.atRiskEpisodes == 2 && row.atRisk && !row.isAtRisk, "the breach ends the at-risk state")
            #expect(row.firstAtRiskAt == opened && row.expectedAt == expected)
            #expect(history.timeline.map(\.type).filter { $0.hasPrefix("sla.at") || $0 == "sla.expected" }
                == ["sla.expected", "sla.atRisk", "sla.atRiskCleared", "sla.atRisk"])
            #expect(history.timeline.contains { $0.summary.hasPrefix("at risk (#2): first response expected by 2026-11-02T17:40:00Z") })
            // A ticket the forecaster expected in time, answered in time.
            var onTime = TicketEvents("CRM-F2")
            let quickDue = at("2026-11-02T20:00:00Z")
            try await store.apply([
                onTime.started(.major, at: opened, due: quickDue),
                onTime.expected(.major, at: opened, expected: opened.addingTimeInterval(1_800), due: quickDue, told: false),
                onTime.met(at: opened.addingTimeInterval(2_400), due: quickDue, used: 2_400),
            ])
            let samples = try await store.attainmentSamples(startedIn: at("2026-11-02T00:00:00Z")..<at("2026-11-03T00:00:00Z"))
            let breached = try #require(samples.first { $0.breached })
            #expect(breached.expectedAt == expected && breached.customerTold && breached.firstAtRiskAt == opened)
            #expect(breached.firstForecastAt == opened)
            #expect(breached.dueAt == due && breached.respondedAt == expected.addingTimeInterval(300))
            let met = try #require(samples.first { !$0.breached })
            #expect(met.expectedAt == opened.addingTimeInterval(1_800) && !met.customerTold && met.firstAtRiskAt == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func eventsAlreadyStoredChangeNothing(backend: Backend) async throws {
        try await withStore(backend) { store in
            var ticket = TicketEvents("CRM-2")
            let opened = at("2026-11-02T16:00:00Z")
            let first = [ticket.received(at: opened), ticket.classified(.major, openedAt: opened, at: opened)]
            let second = ticket.status(.solved, at: opened.addingTimeInterval(60))
            // A duplicate inside one batch, and a whole batch again.
            #expect(try await store.apply(first + [first[0]]) == 2)
            let before = try await store.allTickets()
            #expect(try await store.apply(first) == 0)
            #expect(try await store.allTickets() == before)
            #expect(try await store.apply(first + [second]) == 1)
            #expect(try await store.eventCount() == 3)
            let row = try #require(try await store.ticket(ticket.ticketId.rawValue)?.ticket)
            #expect(row.eventCount == 3 && row.status == .solved && !row.isOpen)
        }
    }

    @Test(arguments: Backend.allCases)
    func everyFieldOfARowSurvivesTheDatabase(backend: Backend) async throws {
        try await withStore(backend) { store in
            var ticket = TicketEvents("CRM-3")
            let opened = at("2026-11-03T16:00:00Z")
            let due = at("2026-11-03T20:00:00Z")
            var events = [
                ticket.received(at: opened, subject: "Ünïcödé ? '; DROP TABLE tickets; -- \u{1F600}"),
                ticket.classified(.major, openedAt: opened, at: opened),
                ticket.started(.major, at: opened, due: due),
                ticket.event(SLAWarning(dueAt: due, remainingSeconds: 3_600), at: due.addingTimeInterval(-3_600), on: Topics.slaEvents),
                ticket.breached(.major, due: due),
                ticket.lateResponse(at: due.addingTimeInterval(600), due: due, late: 600, used: 15_000),
                ticket.severityChanged(.critical, by: "sam@support.example", at: due.addingTimeInterval(700)),
                ticket.event(TicketAssigned(assignee: "bo@support.example", assignedBy: "sam", assignedAt: due), at: due, on: Topics.activity),
                ticket.event(EscalationRequested(by: "pat", via: .ccReply), at: due, on: Topics.escalationEvents),
                ticket.event(EscalationEvaluating(engineer: "eve@support.example", by: "sam"), at: due, on: Topics.escalationEvents),
                ticket.event(EscalationConditionRecorded(condition: .partiesAgreed, by: "eve", note: nil), at: due, on: Topics.escalationEvents),
                ticket.event(EscalationConditionRecorded(condition: .actionPlanConfirmed, by: "eve", note: "plan"), at: due,
                             on: Topics.escalationEvents),
            ]
            events.append(ticket.event(SLAResolvedAfterBreach(dueAt: due, resolvedAt: due.addingTimeInterval(9_000)),
                                       at: due.addingTimeInterval(9_000), on: Topics.slaEvents))
            #expect(try await store.apply(events) == events.count)
            var expected = TicketRecord(ticketId: ticket.ticketId.rawValue, source: "crm", externalId: "CRM-3")
            for event in events { expected.apply(event.fact, at: event.at) }
            let row = try #require(try await store.ticket(ticket.ticketId.rawValue)?.ticket)
            #expect(row == expected)
            #expect(row.severity == .critical && row.severitySetBy == "sam@support.example" && row.clockSeverity == .major)
            #expect(row.conditions == [.actionPlanConfirmed, .partiesAgreed] && row.escalation == .evaluating)
            #expect(row.assignee == "bo@support.example" && row.businessSecondsLate == 600 && !row.isOpen)
        }
    }

    @Test(arguments: Backend.allCases)
    func openTicketsComeLeastTimeLeftFirstPageByPage(backend: Backend) async throws {
        try await withStore(backend) { store in
            let base = at("2026-11-02T16:00:00Z")
            var events = [HistoryEvent]()
            var expectedOrder = [(Int64, String)]()
            for index in 0..<23 {
                var ticket = TicketEvents("OPEN-\(index)")
                let severity: Severity = [.critical, .major, .minor][index % 3]
                let opened = base.addingTimeInterval(Double(index * 97 % 23) * 60)
                events.append(ticket.received(at: opened, organization: index % 2 == 0 ? "acme" : "globex"))
                if index % 5 == 4 { expectedOrder.append((Int64.max, ticket.ticketId.rawValue)); continue }  // not classified yet: last
                let due = opened.addingTimeInterval(Double(severity.level) * 3_600)
                events += [ticket.classified(severity, openedAt: opened, at: opened), ticket.started(severity, at: opened, due: due)]
                if index == 7 { events.append(ticket.status(.solved, at: opened)); continue }  // closed: not listed
                if index == 8 {
                    // Answered but not solved: listed, with no time pressure left, among the last.
                    events.append(ticket.met(at: opened.addingTimeInterval(60), due: due, used: 60))
                    expectedOrder.append((Int64.max, ticket.ticketId.rawValue))
                    continue
                }
                expectedOrder.append((due.epochSeconds, ticket.ticketId.rawValue))
            }
            try await store.apply(events)
            expectedOrder.sort { $0 < $1 }
            var seen = [String]()
            var cursor: PageCursor?
            repeat {
                let page = try await store.openTickets(OpenTicketQuery(limit: 4, after: cursor))
                #expect(page.tickets.count <= 4)
                seen += page.tickets.map(\.ticketId)
                cursor = page.next
            } while cursor != nil
            #expect(seen == expectedOrder.map(\.1))
            let critical = try await store.openTickets(OpenTicketQuery(severity: .critical, limit: 500))
            #expect(!critical.tickets.isEmpty && critical.tickets.allSatisfy { $0.severity == .critical } && critical.next == nil)
            let acme = try await store.openTickets(OpenTicketQuery(clock: .running, organizationId: "acme", limit: 500))
            #expect(!acme.tickets.isEmpty && acme.tickets.allSatisfy { $0.organizationId == "acme" && $0.clock == .running })
            #expect(try await store.openTickets(OpenTicketQuery(escalation: .escalated, limit: 10)).tickets.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func breachesAndAttainmentSamplesComeFromTheirPeriod(backend: Backend) async throws {
        try await withStore(backend) { store in
            var events = [HistoryEvent]()
            for day in 0..<10 {
                var ticket = TicketEvents("B-\(day)")
                let opened = at("2026-11-02T16:00:00Z").addingTimeInterval(Double(day) * 86_400)
                let due = opened.addingTimeInterval(3_600)
                events += [ticket.received(at: opened), ticket.classified(.critical, openedAt: opened, at: opened),
                           ticket.started(.critical, at: opened, due: due)]
                if day % 2 == 0 {
                    events.append(ticket.breached(.critical, due: due))
                    if day % 4 == 0 { events.append(ticket.lateResponse(at: due.addingTimeInterval(120), due: due, late: 120, used: 3_720)) }
                } else {
                    events.append(ticket.met(at: opened.addingTimeInterval(600), due: due, used: 600))
                }
            }
            try await store.apply(events)
            let range = at("2026-11-03T00:00:00Z")..<at("2026-11-09T00:00:00Z")
            var breached = [TicketRecord]()
            var cursor: PageCursor?
            repeat {
                let page = try await store.breaches(BreachQuery(range: range, limit: 2, after: cursor))
                breached += page.tickets
                cursor = page.next
            } while cursor != nil
            #expect(breached.map(\.externalId) == ["B-2", "B-4", "B-6"])
            let samples = try await store.attainmentSamples(startedIn: range)
            #expect(samples.count == 6)
            #expect(samples.filter(\.breached).count == 3)
            #expect(samples.filter { $0.businessSecondsLate == 120 }.count == 1, "B-4 answered late")
            #expect(samples.allSatisfy { $0.severity == .critical })
        }
    }

    /// Projectors on different partitions fold events of the same ticket at the same time:
    /// no update is lost.
    @Test(arguments: Backend.allCases)
    func concurrentBatchesOfOneTicketLoseNothing(backend: Backend) async throws {
        try await withStore(backend) { store in
            var tickets = (0..<40).map { TicketEvents("C-\($0)") }
            let opened = at("2026-11-02T16:00:00Z")
            let received = tickets.indices.map { tickets[$0].received(at: opened) }
            let classified = tickets.indices.map { tickets[$0].classified(.major, openedAt: opened, at: opened) }
            let started = tickets.indices.map { tickets[$0].started(.major, at: opened, due: opened.addingTimeInterval(14_400)) }
            // One event at a time, and whole batches of every ticket in opposite orders; the
            // started events also come twice at once, as when a rebalance hands a batch on.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for event in received { try await store.apply([event]) } }
                group.addTask { for chunk in stride(from: 0, to: 40, by: 10) { try await store.apply(Array(classified[chunk..<chunk + 10])) } }
                group.addTask { for chunk in stride(from: 30, through: 0, by: -10) { try await store.apply(Array(started[chunk..<chunk + 10].reversed())) } }
                group.addTask { try await store.apply(started) }
                try await group.waitForAll()
            }
            #expect(try await store.eventCount() == 120)
            let rows = try await store.allTickets()
            #expect(rows.count == 40)
            #expect(rows.allSatisfy { $0.eventCount == 3 && $0.disposition == .support && $0.clock == .running && $0.subject != nil })
        }
    }
}
