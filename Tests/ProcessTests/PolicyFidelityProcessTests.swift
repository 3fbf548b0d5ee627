import Foundation
import HelpdeskModel
import Testing

/// The policy rules that bent when records arrived in an unlucky order, on the real binaries:
/// records sent with kcat in the order that broke before — an agent's severity change in the
/// same batch as its ticket (it reaches the sla-timer and escalation before the classification),
/// and a customer's CC reply on a ticket intake rejects.
@Suite("policy fidelity across processes", .serialized, .timeLimit(.minutes(4)))
struct PolicyFidelityProcessTests {
    typealias Line = IntakeProcessTests.Line

    @Test func earlySeverityChangesHoldOnlySupportedTicketsEscalateAndManagementHearsOfRequests() async throws {
        // Targets of hours: nothing breaches while the test runs.
        let (broker, bootstrap, policyFile) = try await SLATimerProcessTests.startBroker(
            partitions: 6, policy: SLATimerProcessTests.roundTheClockPolicy(critical: "1h", major: "4h", minor: "8h", warnAt: 0.75))
        defer { try? FileManager.default.removeItem(atPath: policyFile) }
        let common = ["KAFKA_BOOTSTRAP_SERVERS": bootstrap, "LOG_LEVEL": "warning", "HELPDESK_POLICY_FILE": policyFile]
        let ports = (intake: freePort(), classifier: freePort(), timer: freePort())
        let intake = try ChildProcess(Binaries.path("intake"), [], environment: common.merging(["HTTP_PORT": String(ports.intake)]) { $1 })
        let classifier = try ChildProcess(Binaries.path("classifier"), [], environment: common.merging(["HTTP_PORT": String(ports.classifier)]) { $1 })
        let timer = try ChildProcess(Binaries.path("sla-timer"), [], environment: common.merging(["HTTP_PORT": String(ports.timer)]) { $1 })
        let escalation = try EscalationProcessTests.Escalation(bootstrap: bootstrap)
        try await waitFor("the stack ready", seconds: 90) {
            for port in [ports.intake, ports.classifier, ports.timer] where await httpGet(port, "/readyz")?.status != 200 { return false }
            return await escalation.ready
        }

        let openedAt = ISO8601.format(Date())
        func opened(_ id: String, organization: String = "acme", impact: String = #"{"usersAffected":"one"}"#) -> String {
            #"crm/\#(id)|{"type":"ticket.opened","source":"crm","externalId":"\#(id)","organizationId":"\#(organization)","subject":"Report export is slow","impact":\#(impact),"requester":{"email":"it@\#(organization).test"},"openedAt":"\#(openedAt)"}"#
        }
        func ccReply(_ id: String) -> String {
            #"crm/\#(id)|{"type":"ticket.message","source":"crm","externalId":"\#(id)","author":{"role":"customer","email":"it@acme.test"},"body":"Please escalate","cc":["escalations@support.example"]}"#
        }
        // One batch, in the order that broke: the severity change right behind its ticket.
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: Topics.inbound, lines: [
            opened("EARLY"),
            #"crm/EARLY|{"type":"ticket.severityChanged","source":"crm","externalId":"EARLY","severity":"critical","changedBy":"sam@support.example","changedAt":"\#(openedAt)"}"#,
            opened("REJECTED", organization: "initech"), ccReply("REJECTED"),
            opened("SUPPORTED"), ccReply("SUPPORTED"),
        ]) == 0)

        let tail = try ChildProcess(Binaries.path("helpdesk"), [
            "tail", Topics.slaEvents, Topics.escalationEvents, Topics.notifications, "--format", "json", "--bootstrap-servers", bootstrap,
        ])
        func events(_ externalId: String) -> [(type: String, payload: JSONValue)] {
            let key = TicketID(source: "crm", externalId: externalId).rawValue
            return tail.output.compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
                .filter { $0.event == "record" && $0.key == key }
                .compactMap { line in
                    guard let value = line.value, let parsed = try? JSONParser.parse(Array(value.utf8)),
                          case .string(let type)? = EscalationProcessTests.member(parsed, "type") else { return nil }
                    return (type, parsed)
                }
        }
        func severities(_ externalId: String) -> [String] {
            events(externalId).filter { [SLAStarted.type, SLARecalculated.type].contains($0.type) }
                .compactMap { EscalationProcessTests.member($0.payload, "severity").flatMap { if case .string(let s) = $0 { s } else { nil } } }
        }
        try await waitFor("every outcome published", seconds: 60) {
            severities("EARLY").last == "critical"
                && events("REJECTED").contains { $0.type == EscalationRequestRefused.type }
                && events("SUPPORTED").filter { $0.type == "notification" }.count >= 2
        }

        // 1. The agent's critical holds: a 1-hour clock from openedAt, and escalation's severity.
        let announced = events("EARLY").filter { [SLAStarted.type, SLARecalculated.type].contains($0.type) }
        let due = EscalationProcessTests.member(announced.last?.payload, "dueAt")
        #expect(due == .string(ISO8601.format(ISO8601.parse(openedAt)!.addingTimeInterval(3600))))
        let early = TicketID(source: "crm", externalId: "EARLY").rawValue
        try await waitFor("escalation knows the agent's severity") {
            EscalationProcessTests.member(await escalation.state(early), "severity") == .string("critical")
        }
        // 2. A rejected ticket is not escalated; its customer is told why.
        #expect(!events("REJECTED").contains { $0.type == EscalationRequested.type })
        let refusal = events("REJECTED").first { $0.type == EscalationRequestRefused.type }
        #expect(EscalationProcessTests.member(refusal?.payload, "reason") == .string("rejected"))
        try await waitFor("the customer told") {
            events("REJECTED").contains { $0.type == "notification" && EscalationProcessTests.member($0.payload, "audience") == .string("customer")
                && EscalationProcessTests.member($0.payload, "recipient") == .string("it@acme.test") }
        }
        // 4. A supported ticket's request reaches the support lead and management at once.
        #expect(events("SUPPORTED").contains { $0.type == EscalationRequested.type })
        let audiences = events("SUPPORTED").filter { $0.type == "notification" }.compactMap { EscalationProcessTests.member($0.payload, "audience") }
        #expect(audiences.contains(.string("supportLead")) && audiences.contains(.string("management")))

        #expect(await tail.terminate() == 0)
        for process in [intake, classifier, timer, escalation.process] { #expect(await process.terminate() == 0) }
        #expect(await broker.terminate() == 0)
    }
}

/// `helpdesk watch` shows open tickets: one answered or resolved after its breach is off the board.
@Suite("helpdesk watch", .serialized, .timeLimit(.minutes(2)))
struct WatchBoardProcessTests {
    @Test func ticketsAnsweredAfterTheirBreachLeaveTheOpenBoard() async throws {
        let broker = try ChildProcess(Binaries.path("helpdesk"), ["broker"], stdin: Pipe())
        try await waitFor("the broker's bootstrap line") { !broker.output.isEmpty }
        let bootstrap = broker.output[0]
        let due = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 - 3600)
        func line<P: EventPayload>(_ externalId: String, _ payload: P, cause: String) -> String {
            let ticketId = TicketID(source: "crm", externalId: externalId)
            let event = Event(emittedBy: "sla-timer", causedBy: cause, ticketId: ticketId, source: "crm", externalId: externalId,
                              at: due, payload: payload)
            return "\(ticketId.rawValue)|" + String(decoding: try! WireJSON.encode(event), as: UTF8.self)
        }
        var lines = [String]()
        for id in ["LATE", "OPEN"] {
            lines.append(line(id, SLAStarted(severity: .critical, startedAt: due.addingTimeInterval(-3600), dueAt: due), cause: "s"))
            lines.append(line(id, SLABreached(severity: .critical, dueAt: due), cause: "terminal"))
        }
        lines.append(line("LATE", SLARespondedAfterBreach(dueAt: due, respondedAt: due.addingTimeInterval(600), businessSecondsLate: 600),
                          cause: "respondedAfterBreach"))
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: Topics.slaEvents, lines: lines) == 0)
        var open = "", all = ""
        try await waitFor("the board shows both") {
            open = (try? await runHelpdesk(["watch", "--once", "--bootstrap-servers", bootstrap]).stdout) ?? ""
            all = (try? await runHelpdesk(["watch", "--once", "--all", "--bootstrap-servers", bootstrap]).stdout) ?? ""
            return all.contains("crm/LATE") && all.contains("crm/OPEN")
        }
        #expect(open.contains("crm/OPEN"), "a breached ticket without an answer stays on the board")
        #expect(!open.contains("crm/LATE"), "an answered one leaves it: \(open)")
        #expect(all.contains("answered late"))
        #expect(await broker.terminate() == 0)
    }
}
