import Foundation
import HelpdeskModel
import Testing

/// Every metric on real processes: two `sla-timer`s on the embedded broker with a 24x7 policy
/// of seconds, next-reply cycles, periodic updates and a resolution paused while pending; one
/// instance is SIGKILLed mid-run. Each metric instance must end with exactly one terminal
/// event, dated by the instant the policy says.
@Suite("sla-timer processes: every metric", .serialized, .timeLimit(.minutes(5)))
struct SLAMetricsProcessTests {
    static let policy = """
        timezone: UTC
        hours: { start: "00:00", end: "24:00" }
        days: [sun, mon, tue, wed, thu, fri, sat]
        severities:
          critical:
            firstResponse: 6s
            nextReply: { target: 8s }
            periodicUpdate: { target: 10s }
            resolution: { target: 30s }
        """

    /// A line for kcat: the ticket's key, `|`, the event.
    static func line<P: EventPayload>(_ externalId: String, _ cause: String, at: Date, _ payload: P) -> String {
        let ticketId = TicketID(source: "crm", externalId: externalId)
        let event = Event(emittedBy: "test", causedBy: cause, ticketId: ticketId, source: "crm", externalId: externalId, at: at,
                          payload: payload)
        return "\(ticketId.rawValue)|" + String(decoding: try! WireJSON.encode(event), as: UTF8.self)
    }

    @Test func everyInstanceEndsOnceAtItsInstantThroughAKill() async throws {
        // Three processes on two cores: never beside the end-to-end runs, which time breaches.
        try await MachineLoad.exclusive { try await run() }
    }

    func run() async throws {
        let (broker, bootstrap, policyFile) = try await SLATimerProcessTests.startBroker(partitions: 6, policy: Self.policy)
        defer { try? FileManager.default.removeItem(atPath: policyFile) }
        let a = try SLATimerProcessTests.Instance("sla-timer-a", bootstrap: bootstrap, policyFile: policyFile)
        let b = try SLATimerProcessTests.Instance("sla-timer-b", bootstrap: bootstrap, policyFile: policyFile)
        try await waitFor("both instances own half the partitions", seconds: 60) {
            let (first, second) = (await a.assigned, await b.assigned)
            return first == 6 && second == 6
        }
        let tail = try ChildProcess(Binaries.path("helpdesk"), ["tail", "sla.events", "--format", "json", "--bootstrap-servers", bootstrap])

        // Whole seconds, a second ahead: every instant below is exact.
        let t0 = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 1).rounded(.down))
        func time(_ offset: Double) -> Date { t0.addingTimeInterval(offset) }
        let count = 40
        let ids = (0..<count).map { "M-\($0)" }
        let answering = Set(ids.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        func step(at offset: Double, topic: String = "tickets.activity", _ lines: (String) -> String?) async throws {
            let wait = time(offset).timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
            #expect(try await kcatProduce(bootstrap: bootstrap, topic: topic, lines: ids.compactMap(lines)) == 0)
        }
        let agent = Author(role: .agent, email: "sam@support.example"), customer = Author(role: .customer, email: "it@acme.test")
        try await step(at: 0, topic: "tickets.classified") { id in
            Self.line(id, "classified", at: time(0), TicketClassified(
                severity: .critical, signals: [], confidence: 1, reportedSeverity: nil, disagreesWithReporter: false,
                needsDedicatedContact: false, openedAt: time(0), plan: "premium"))
        }
        try await step(at: 1) { Self.line($0, "r1", at: time(1), TicketMessagePosted(author: agent, isPublic: true, body: "On it.", cc: [], sentAt: time(1))) }
        try await step(at: 2) { Self.line($0, "c1", at: time(2), TicketMessagePosted(author: customer, isPublic: true, body: "Any news?", cc: [], sentAt: time(2))) }
        try await step(at: 3) { Self.line($0, "p", at: time(3), TicketStatusChanged(status: .pending, changedAt: time(3))) }
        try await step(at: 6) { Self.line($0, "o", at: time(6), TicketStatusChanged(status: .open, changedAt: time(6))) }
        try await step(at: 7) { id in
            answering.contains(id)
                ? Self.line(id, "r2", at: time(7), TicketMessagePosted(author: agent, isPublic: true, body: "Fixed, please check.", cc: [], sentAt: time(7)))
                : nil
        }
        // A dies in the middle, its timers due; B takes over its partitions after the session timeout.
        try await Task.sleep(for: .seconds(max(0, time(8).timeIntervalSinceNow)))
        await a.process.killHard()
        try await step(at: 20) { id in
            answering.contains(id) ? Self.line(id, "s", at: time(20), TicketStatusChanged(status: .solved, changedAt: time(20))) : nil
        }
        try a.restart()

        struct Terminal { let type: String; let at: Date }
        var ends = [String: [Terminal]]()
        // Lines are parsed once, as they come (the waits below read them again and again).
        var parsed = [(key: String, type: String, eventId: String, at: Date, value: String)]()
        var linesRead = 0
        func read() -> [(key: String, type: String, eventId: String, at: Date, value: String)] {
            let lines = tail.output
            for line in lines.dropFirst(linesRead) {
                guard let decoded = try? JSONDecoder().decode(SLATimerProcessTests.Line.self, from: Data(line.utf8)), decoded.event == "record",
                      let key = decoded.key, let value = decoded.value,
                      let envelope = try? WireJSON.decode(EventEnvelope.self, from: Array(value.utf8)) else { continue }
                parsed.append((key, envelope.type, envelope.eventId.rawValue, envelope.at, value))
            }
            linesRead = lines.count
            return parsed
        }
        func instance(_ value: String) -> String {
            guard case .object(let members)? = try? JSONParser.parse(Array(value.utf8)) else { return "?" }
            let metric = members["metric"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? "?"
            let number = members["instance"].flatMap { if case .number(_, let text) = $0 { text } else { nil } } ?? "-"
            return "\(metric)/\(number)"
        }
        func collect() {
            ends = [:]
            for record in read() where [SLAMet.type, SLABreached.type, SLAStopped.type].contains(record.type) {
                ends["\(record.key) \(instance(record.value))", default: []].append(Terminal(type: record.type, at: record.at))
            }
        }
        // Per ticket: first response, next reply 1, update periods 1 (and 2), resolution.
        let expectedEnds = count * 4 + answering.count
        try await waitFor("every metric instance ended", seconds: 120) {
            collect()
            return ends.count >= expectedEnds
        }
        try await SLATimerProcessTests.stopAndDrain([a, b], tail: tail, bootstrap: bootstrap)
        collect()

        var wrong = [String]()
        for id in ids {
            let key = TicketID(source: "crm", externalId: id).rawValue
            // Resolution and next reply paused 3 s (pending from 3 to 6).
            let expected: [String: (String, Double)] = answering.contains(id)
                ? ["firstResponse/-": (SLAMet.type, 1), "nextReply/1": (SLAMet.type, 7), "periodicUpdate/1": (SLAMet.type, 7),
                   "periodicUpdate/2": (SLABreached.type, 17), "resolution/-": (SLAMet.type, 20)]
                : ["firstResponse/-": (SLAMet.type, 1), "nextReply/1": (SLABreached.type, 13), "periodicUpdate/1": (SLABreached.type, 11),
                   "resolution/-": (SLABreached.type, 33)]
            for (name, (type, offset)) in expected {
                let found = ends["\(key) \(name)"] ?? []
                if found.count != 1 || found[0].type != type || abs(found[0].at.timeIntervalSince(time(offset))) > 1 {
                    wrong.append("\(id) \(name): expected \(type) at +\(Int(offset)) s, got "
                        + found.map { "\($0.type) at +\(Int($0.at.timeIntervalSince(t0))) s" }.joined(separator: ", "))
                }
            }
            let extra = ends.keys.filter { $0.hasPrefix(key + " ") && expected["\($0.dropFirst(key.count + 1))"] == nil }
            if !extra.isEmpty { wrong.append("\(id): unexpected instances \(extra)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) wrong:\n\(wrong.prefix(20).joined(separator: "\n"))")
        let all = read()
        #expect(Set(all.map(\.eventId)).count == all.count, "no event id twice")
        #expect(all.filter { $0.type == SLAPaused.type }.count == count * 2, "resolution and next reply paused once per ticket")
        #expect(await broker.terminate() == 0)
    }
}
