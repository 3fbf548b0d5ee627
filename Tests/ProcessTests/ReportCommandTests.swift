import Foundation
import HelpdeskModel
import HistoryStore
import Testing

/// `helpdesk report` on a SQLite store written here: the figures, the formats, the refusals.
@Suite("helpdesk report")
struct ReportCommandTests {
    static func event<P: EventPayload>(_ externalId: String, _ topic: String, _ payload: P, at: Date, offset: Int64) throws -> HistoryEvent {
        let event = Event(emittedBy: "test", causedBy: "\(topic)/\(offset)", ticketId: TicketID(source: "crm", externalId: externalId),
                          source: "crm", externalId: externalId, at: at, payload: payload)
        return try HistoryEvent(topic: topic, partition: 0, offset: offset, bytes: try WireJSON.encode(event))
    }

    /// Two critical tickets opened Monday 2026-11-02 09:00 Denver: one answered in 20 minutes,
    /// one breached and answered 30 business minutes late, "quoted, subject".
    static func store() async throws -> String {
        let folder = NSTemporaryDirectory() + "report-\(UUID().uuidString.prefix(8))"
        let store = try SQLiteHistory(path: folder + "/history.sqlite")
        let opened = ISO8601.parse("2026-11-02T16:00:00Z")!
        let due = opened.addingTimeInterval(3_600)
        var events = [HistoryEvent]()
        for (index, id) in ["R-1", "R-2"].enumerated() {
            events.append(try event(id, Topics.received, TicketReceived(
                organizationId: "acme", subject: index == 0 ? "VPN down" : "\"quoted\", subject", description: nil, requester: nil,
                reportedSeverity: nil, impact: nil, category: nil, openedAt: opened, receivedAt: opened), at: opened, offset: 0))
            events.append(try event(id, Topics.slaEvents, SLAStarted(severity: .critical, startedAt: opened, dueAt: due), at: opened, offset: 0))
        }
        events.append(try event("R-1", Topics.slaEvents, SLAMet(dueAt: due, respondedAt: opened.addingTimeInterval(1_200),
                                                               businessSecondsUsed: 1_200), at: opened.addingTimeInterval(1_200), offset: 1))
        events.append(try event("R-2", Topics.slaEvents, SLABreached(severity: .critical, dueAt: due), at: due, offset: 1))
        events.append(try event("R-2", Topics.slaEvents, SLARespondedAfterBreach(
            dueAt: due, respondedAt: due.addingTimeInterval(1_800), businessSecondsLate: 1_800, businessSecondsUsed: 5_400),
                                at: due.addingTimeInterval(1_800), offset: 2))
        // The forecaster expected R-2's answer at 10:40 and flagged it at 09:00, two hours ahead.
        let forecast = ResponseForecast(expectedAt: due.addingTimeInterval(2_400), earliest: due, latest: due.addingTimeInterval(3_600),
                                        dueAt: due, ahead: 9, agentsOnShift: 1)
        events.append(try event("R-2", Topics.slaForecast, SLAExpected(severity: .critical, plan: nil, targetSeconds: 3_600,
                                                                      forecast: forecast, text: "", customerTold: true), at: opened, offset: 0))
        events.append(try event("R-2", Topics.slaForecast, SLAAtRisk(severity: .critical, plan: nil, episode: 1, forecast: forecast),
                                at: opened, offset: 1))
        try await store.apply(events)
        return folder + "/history.sqlite"
    }

    @Test func reportsComeInEachFormatAndBadRequestsAreRefusedWithAReason() async throws {
        let path = try await Self.store()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
        let database = ["--database", "sqlite:\(path)"]

        let csv = try await runHelpdesk(["report", "attainment", "--from", "2026-11-02", "--to", "2026-11-08", "--format", "csv"] + database)
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "period,severity,tickets,met,breached,met %,median to respond,p90 to respond,late responses,median late,unanswered")
        #expect(lines.contains("2026-11-02,critical,2,1,1,50.0,1200,5400,1,1800,0"), "\(lines)")
        #expect(lines.contains("2026-11-02,major,0,0,0,,,,0,,0"))

        let json = try await runHelpdesk(["report", "attainment", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "month", "--format", "json"] + database)
        let report = try JSONDecoder().decode(AttainmentReport.self, from: Data(json.stdout.utf8))
        #expect(report.rows.count == 3 && report.rows[0].period == "2026-11" && report.rows[0].metPercent == 50)

        let table = try await runHelpdesk(["report", "attainment", "--from", "2026-11-02", "--to", "2026-11-08"] + database)
        #expect(table.stdout.contains("0h20m") && table.stdout.contains("1h30m"), "business times as hours and minutes")

        let forecast = try await runHelpdesk(["report", "forecast", "--from", "2026-11-02", "--to", "2026-11-08", "--format", "csv"] + database)
        #expect(forecast.status == 0, "\(forecast.stderr)")
        // R-2 answered 10 minutes before the 10:40 it was told; flagged, breached, an hour ahead.
        #expect(forecast.stdout.contains("\n2026-11-02,critical,2,1,600,600,1,1,1,1,1,100.0,1,1,100.0\n"), "\(forecast.stdout)")
        let forecastTable = try await runHelpdesk(["report", "forecast", "--from", "2026-11-02", "--to", "2026-11-08"] + database)
        #expect(forecastTable.stdout.hasPrefix("Forecast against outcome 2026-11-02 to 2026-11-08 by week"))

        let breaches = try await runHelpdesk(["report", "breaches", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv"] + database)
        #expect(breaches.stdout.contains("crm/R-2,acme,critical,2026-11-02T17:00:00Z,2026-11-02T17:30:00Z,1800,\"\"\"quoted\"\", subject\""),
                "\(breaches.stdout)")

        let ticket = try await runHelpdesk(["report", "ticket", "crm/R-2"] + database)
        #expect(ticket.status == 0 && ticket.stdout.contains("clock breached") && ticket.stdout.contains("sla.respondedAfterBreach"))

        for (arguments, reason) in [
            (["report", "ticket", "crm/NOPE"] + database, "no event of crm/NOPE"),
            (["report", "ticket", "nothing"] + database, "neither source/externalId nor a tk_ ticket id"),
            (["report", "attainment", "--from", "2026-11-09", "--to", "2026-11-01"] + database, "from must not be after to"),
            (["report", "attainment", "--from", "2026-11-31", "--to", "2026-12-01"] + database, "--from \"2026-11-31\" is not a date"),
            (["report", "attainment", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "day"] + database, "--by \"day\" is not week or month"),
            (["report", "attainment", "--from", "2026-11-01", "--to", "2026-11-30", "--database", "sqlite:/nonexistent/h.sqlite"],
             "no history store at sqlite:/nonexistent/h.sqlite"),
            (["report", "attainment", "--from", "2026-11-01", "--to", "2026-11-30", "--database", "mysql://x"], "use sqlite:PATH or postgres://"),
        ] {
            let result = try await runHelpdesk(arguments)
            #expect(result.status != 0 && result.stderr.contains(reason), "\(arguments): \(result.stderr)")
        }
    }
}
