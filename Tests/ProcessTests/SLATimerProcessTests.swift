import Foundation
import HelpdeskModel
import Testing

/// Two real `sla-timer` processes on the embedded broker (6 partitions), with a policy of
/// seconds on a 24x7 calendar, while one and then the other is killed with SIGKILL.
@Suite("sla-timer processes", .serialized, .timeLimit(.minutes(5)))
struct SLATimerProcessTests {
    // Replies are dated a second after the tickets open. The shortest target leaves them 7 s to
    // reach the timer: enough even when the whole suite shares two busy cores.
    static let policy = roundTheClockPolicy(critical: "8s", major: "10s", minor: "12s", warnAt: 0.5)

    /// A policy file's text: business hours round the clock (UTC, every day), these first-response
    /// targets, and warnings at `warnAt` of each.
    static func roundTheClockPolicy(critical: String, major: String, minor: String, warnAt: Double) -> String {
        """
        timezone: UTC
        hours: { start: "00:00", end: "24:00" }
        days: [sun, mon, tue, wed, thu, fri, sat]
        severities:
          critical: { firstResponse: \(critical), warnAt: \(warnAt) }
          major:    { firstResponse: \(major), warnAt: \(warnAt) }
          minor:    { firstResponse: \(minor), warnAt: \(warnAt) }
        """
    }

    struct Line: Decodable {
        let event: String
        let key: String?
        let value: String?
    }

    final class Instance: @unchecked Sendable {
        let name: String
        let port = freePort()
        let environment: [String: String]
        var process: ChildProcess

        init(_ name: String, bootstrap: String, policyFile: String) throws {
            self.name = name
            environment = [
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HTTP_PORT": String(port), "LOG_LEVEL": ProcessInfo.processInfo.environment["PROCESS_TEST_LOG_LEVEL"] ?? "warning",
                "HELPDESK_POLICY_FILE": policyFile,
                "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            ].merging(ProcessInfo.processInfo.environment["STATIC"] != nil ? ["KAFKA_GROUP_INSTANCE_ID": name] : [:]) { $1 }
            process = try ChildProcess(Binaries.path("sla-timer"), [], environment: environment)
        }

        func restart() throws { process = try ChildProcess(Binaries.path("sla-timer"), [], environment: environment) }

        func metric(_ series: String) async -> Double? {
            await httpGet(port, "/metrics").flatMap { metricValue($0.body, series) }
        }
        var assigned: Int { get async { Int(await metric(#"helpdesk_assigned_partitions{service="sla-timer"}"#) ?? -1) } }
        var ready: Bool { get async { await httpGet(port, "/readyz")?.status == 200 } }
    }

    /// `count` tickets opened now; every third gets a public agent reply one second later.
    static func wave(_ name: String, count: Int, severities: [Severity] = [.critical, .major, .minor])
        -> (classified: [String], replies: [String], replied: Set<String>)
    {
        let now = Date()
        var classified = [String]()
        var replies = [String]()
        var replied = Set<String>()
        for i in 0..<count {
            let externalId = "\(name)-\(i)"
            let ticketId = TicketID(source: "crm", externalId: externalId)
            let event = Event(emittedBy: "classifier", causedBy: externalId, ticketId: ticketId, source: "crm",
                              externalId: externalId, at: now,
                              payload: TicketClassified(severity: severities[i % severities.count], signals: [], confidence: 1,
                                                        reportedSeverity: nil, disagreesWithReporter: false,
                                                        needsDedicatedContact: false, openedAt: now))
            classified.append("\(ticketId.rawValue)|" + String(decoding: try! WireJSON.encode(event), as: UTF8.self))
            if i % 3 == 0 {
                let reply = Event(emittedBy: "intake", causedBy: "reply-\(externalId)", ticketId: ticketId, source: "crm",
                                  externalId: externalId, at: now.addingTimeInterval(1),
                                  payload: TicketMessagePosted(author: Author(role: .agent), isPublic: true, body: "On it.",
                                                               cc: [], sentAt: now.addingTimeInterval(1)))
                replies.append("\(ticketId.rawValue)|" + String(decoding: try! WireJSON.encode(reply), as: UTF8.self))
                replied.insert(ticketId.rawValue)
            }
        }
        return (classified, replies, replied)
    }

    /// `helpdesk broker` with that many partitions per topic, and the test policy in a file (remove it after).
    static func startBroker(partitions: Int, policy: String = policy) async throws -> (broker: ChildProcess, bootstrap: String, policyFile: String) {
        try #require(FileManager.default.isExecutableFile(atPath: Binaries.path("sla-timer")))
        let broker = try ChildProcess(Binaries.path("helpdesk"), ["broker", "--partitions", String(partitions)], stdin: Pipe())
        try await waitFor("the broker's bootstrap line") { !broker.output.isEmpty }
        let policyFile = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID()).yaml").path
        try policy.write(toFile: policyFile, atomically: true, encoding: .utf8)
        return (broker, broker.output[0], policyFile)
    }

    /// The instances drain and stop (status 0). A marker behind everything in each of the six
    /// partitions of `sla.events` shows the tail has seen all they published; then it stops.
    static func stopAndDrain(_ instances: [Instance], tail: ChildProcess, bootstrap: String) async throws {
        for instance in instances { #expect(await instance.process.terminate() == 0) }
        for partition in 0..<6 {
            #expect(try await kcatProduce(bootstrap: bootstrap, topic: "sla.events", lines: ["marker-\(partition)|end"], partition: partition) == 0)
        }
        try await waitFor("the markers") { tail.output.filter { $0.contains(#""key":"marker-"#) }.count == 6 }
        #expect(await tail.terminate() == 0)
    }

    @Test func twoInstancesShareTheClocksAndKilledOnesLoseNothingAndRepeatNothing() async throws {
        let helpdesk = Binaries.path("helpdesk")
        let (broker, bootstrap, policyFile) = try await Self.startBroker(partitions: 6)
        defer { try? FileManager.default.removeItem(atPath: policyFile) }

        let a = try Instance("sla-timer-a", bootstrap: bootstrap, policyFile: policyFile)
        let b = try Instance("sla-timer-b", bootstrap: bootstrap, policyFile: policyFile)
        try await waitFor("both instances own half the partitions", seconds: 60) {
            let (first, second) = (await a.assigned, await b.assigned)
            return first == 6 && second == 6
        }

        var replied = Set<String>()
        var tickets = Set<String>()
        func send(_ name: String, count: Int) async throws {
            let wave = Self.wave(name, count: count)
            // Replies go first: two kcat runs can be seconds apart on a busy machine, and a reply
            // that reaches the timer after its deadline fired is (rightly) too late to count.
            #expect(try await kcatProduce(bootstrap: bootstrap, topic: "tickets.activity", lines: wave.replies) == 0)
            #expect(try await kcatProduce(bootstrap: bootstrap, topic: "tickets.classified", lines: wave.classified) == 0)
            replied.formUnion(wave.replied)
            tickets.formUnion(wave.classified.map { String($0.prefix { $0 != "|" }) })
        }

        // 1. Work shared by both; A dies and comes back under the same identity at once. On a
        //    real cluster static membership hands A its partitions back without a rebalance;
        //    librdkafka 2.0.2's mock cluster treats the restarted member as new and rebalances
        //    the group once the old member's session expires, so here only the outcome is checked.
        try await send("w1", count: 200)
        await a.process.killHard()
        try a.restart()
        try await waitFor("A back with its share", seconds: 60) {
            let (first, second) = (await a.assigned, await b.assigned)
            return first == 6 && second == 6
        }

        // 2. B dies for good: its partitions reach A within the session timeout.
        try await send("w2", count: 200)
        await b.process.killHard()
        let killed = ContinuousClock.now
        try await waitFor("A owns every partition", seconds: 30) { await a.assigned == 12 }
        let failover = ContinuousClock.now - killed
        // The mock cluster adds its own rebalance delay (about 5 s) after the session expires.
        print("sla-timer failover after SIGKILL: \(failover) (session timeout 6 s)")
        #expect(failover < .seconds(6 + 8), "failover took \(failover); session timeout 6 s")
        try await send("w3", count: 200)

        // 3. B restarts and takes its share again.
        try b.restart()
        try await waitFor("B owns partitions again", seconds: 60) {
            let (first, second) = (await b.assigned, await a.assigned)
            return first == 6 && second == 6
        }
        try await send("w4", count: 100)

        let tail = try ChildProcess(helpdesk, ["tail", "sla.events", "--format", "json", "--bootstrap-servers", bootstrap])
        func records() -> [(key: String, type: String, eventId: String, externalId: String)] {
            tail.output.compactMap { line in
                guard let parsed = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)), parsed.event == "record",
                      let key = parsed.key, let value = parsed.value,
                      let envelope = try? WireJSON.decode(EventEnvelope.self, from: Array(value.utf8)) else { return nil }
                return (key, envelope.type, envelope.eventId.rawValue, envelope.externalId)
            }
        }
        func terminals() -> [(key: String, type: String, eventId: String, externalId: String)] {
            records().filter { $0.type == SLAMet.type || $0.type == SLABreached.type }
        }
        try await waitFor("a terminal event for every ticket", seconds: 90) { Set(terminals().map(\.key)).count >= tickets.count }
        try await Self.stopAndDrain([a, b], tail: tail, bootstrap: bootstrap)
        let all = records()
        let finals = terminals()
        #expect(finals.count == tickets.count, "exactly one terminal record per ticket: \(finals.count) for \(tickets.count)")
        #expect(Set(finals.map(\.key)) == tickets)
        for final in finals {
            let history = tail.output.filter { $0.contains(final.key) }.map { $0.suffix(260) }.joined(separator: "\n")
            #expect(final.type == (replied.contains(final.key) ? SLAMet.type : SLABreached.type), "\(final.externalId)\n\(history)")
        }
        #expect(all.filter { $0.type == SLAStarted.type }.count == tickets.count, "one sla.started per ticket")
        #expect(Set(all.map(\.eventId)).count == all.count, "no event id twice")
        #expect(await broker.terminate() == 0)
    }

    /// The false breach of a kill run, on the Kafka path: a record waits in tickets.inbound with
    /// no intake to hand it on (intake's group has committed nothing), so the critical ticket's
    /// deadline waits, although the sla-timer has read everything on its own topics. Once the
    /// reply is published and group intake commits past the record (kcat in that group), the
    /// reply meets the clock.
    @Test func aDeadlineWaitsUntilIntakesGroupHasCommittedWhatItTook() async throws {
        let helpdesk = Binaries.path("helpdesk")
        let (broker, bootstrap, policyFile) = try await Self.startBroker(partitions: 1)
        defer { try? FileManager.default.removeItem(atPath: policyFile) }
        let timer = try Instance("sla-timer-upstream", bootstrap: bootstrap, policyFile: policyFile)
        try await waitFor("the sla-timer owns the partition", seconds: 60) { await timer.assigned == 2 }
        let tail = try ChildProcess(helpdesk, ["tail", "sla.events", "--format", "json", "--bootstrap-servers", bootstrap])
        func types() -> [String] {
            tail.output.compactMap { line in
                guard let parsed = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)), let value = parsed.value,
                      let envelope = try? WireJSON.decode(EventEnvelope.self, from: Array(value.utf8)) else { return nil }
                return envelope.type
            }
        }

        // The reply, still in tickets.inbound; the ticket itself, classified (critical: 8 s).
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: Topics.inbound, lines: ["crm/up-0|the reply, not yet handed on"]) == 0)
        let wave = Self.wave("up", count: 1, severities: [.critical])
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: Topics.classified, lines: wave.classified) == 0)
        try await waitFor("the clock started") { types().contains(SLAStarted.type) }
        let behind = #"helpdesk_timer_input_checks_total{service="sla-timer",outcome="upstream_behind"}"#
        try await waitFor("the deadline waits for intake", seconds: 30) { (await timer.metric(behind) ?? 0) >= 10 }
        // Polled every 10 ms: a few seconds past the deadline, still nothing has fired.
        let polls = await timer.metric(behind) ?? 0
        try await waitFor("a few seconds of polling", seconds: 30) { (await timer.metric(behind) ?? 0) >= polls + 200 }
        #expect(!types().contains(SLABreached.type), "no breach while intake holds a record from before the deadline")
        #expect(!types().contains(SLAWarning.type), "nor a warning")

        // Intake hands the reply on and its group commits past the record it took.
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: Topics.activity, lines: wave.replies) == 0)
        let intakeGroup = Process()
        intakeGroup.executableURL = URL(fileURLWithPath: Binaries.which("kcat")!)
        intakeGroup.arguments = ["-b", bootstrap, "-G", ConsumerGroups.intake, "-X", "auto.offset.reset=earliest", "-e", "-q", Topics.inbound]
        intakeGroup.standardOutput = FileHandle.nullDevice
        try intakeGroup.run()
        intakeGroup.waitUntilExit()
        #expect(intakeGroup.terminationStatus == 0)
        try await waitFor("the reply meets the clock", seconds: 30) { types().contains(SLAMet.type) }
        #expect(!types().contains(SLABreached.type))
        // Not asserted: an `upstream_caught_up` check. Under load the reply can meet the clock
        // before the next check of intake's commits, and then no deadline is left to check.
        #expect(await timer.process.terminate() == 0)
        #expect(await tail.terminate() == 0)
        #expect(await broker.terminate() == 0)
    }
}
