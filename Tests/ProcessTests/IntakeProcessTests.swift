import Foundation
import Testing

/// The real `intake` executable on the embedded broker, fed by kcat.
@Suite("intake process", .serialized, .timeLimit(.minutes(3)))
struct IntakeProcessTests {
    struct Line: Decodable {
        let event: String
        let topic: String?
        let key: String?
        let value: String?
        let headers: [String: String]?
    }

    @Test func kcatRecordsFlowToReceivedRejectedAndDeadletterExactlyOnce() async throws {
        let helpdesk = Binaries.path("helpdesk")
        let intakeBinary = Binaries.path("intake")
        try #require(FileManager.default.isExecutableFile(atPath: intakeBinary), "build intake first: \(intakeBinary)")
        let broker = try ChildProcess(helpdesk, ["broker"], stdin: Pipe())
        try await waitFor("the broker's bootstrap line") { !broker.output.isEmpty }
        let bootstrap = broker.output[0]
        let port = freePort()
        let intake = try ChildProcess(intakeBinary, [], environment: [
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HTTP_PORT": String(port), "LOG_LEVEL": "warning",
            "INTAKE_API_KEYS": "crm=crm-key-0123456789abcdef",
        ])
        try await waitFor("intake ready") { await httpGet(port, "/readyz")?.status == 200 }

        var lines = [String]()
        for i in 0..<1000 {
            let organization = i % 2 == 0 ? "acme" : "globex"
            lines.append(#"crm/T-\#(i)|{"type":"ticket.opened","source":"crm","externalId":"T-\#(i)","organizationId":"\#(organization)","subject":"Ticket \#(i)","impact":{"usersAffected":"few"}}"#)
        }
        let malformed = [
            "{broken json", "plain text", #"{"type":"ticket.opened","source":"crm","externalId":"M"}"#,
            #"{"type":"ticket.opened","source":"crm","externalId":7,"organizationId":"acme","subject":"s"}"#,
            #"{"type":"ticket.archived","source":"crm","externalId":"M"}"#, "[1,2,3]",
            #"{"type":"ticket.opened","source":"crm","externalId":"M","organizationId":"acme","subject":"\#(String(repeating: "s", count: 2000))"}"#,
            #"{"type":"ticket.statusChanged","source":"crm","externalId":"M","status":"gone"}"#,
            #"{"type":"ticket.message","source":"crm","externalId":"M","author":{"role":"agent"},"cc":"not-a-list"}"#,
            #"{"type":"ticket.opened","source":"CRM!","externalId":"M","organizationId":"acme","subject":"s"}"#,
        ]
        for i in 0..<100 { lines.append("bad/\(i)|\(malformed[i % malformed.count])") }
        for i in 0..<100 {
            let organization = i % 2 == 0 ? "initech" : "unknown-\(i)"
            lines.append(#"crm/R-\#(i)|{"type":"ticket.opened","source":"crm","externalId":"R-\#(i)","organizationId":"\#(organization)","subject":"No entitlement"}"#)
        }
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: "tickets.inbound", lines: lines.shuffled()) == 0)

        let tail = try ChildProcess(helpdesk, ["tail", "tickets.received", "tickets.rejected", "deadletter", "--format", "json",
                                               "--bootstrap-servers", bootstrap])
        func counts() -> [String: Int] {
            var counts = [String: Int]()
            for line in tail.output {
                guard let parsed = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)), parsed.event == "record" else { continue }
                counts[parsed.topic!, default: 0] += 1
            }
            return counts
        }
        try await waitFor("every record handled", seconds: 90) {
            let c = counts()
            return c["tickets.received", default: 0] >= 1000 && c["tickets.rejected", default: 0] >= 100 && c["deadletter", default: 0] >= 100
        }
        // A marker through every partition proves nothing else is still on its way.
        let markers = (0..<30).map { #"crm/Z-\#($0)|{"type":"ticket.opened","source":"crm","externalId":"Z-\#($0)","organizationId":"acme","subject":"marker"}"# }
        #expect(try await kcatProduce(bootstrap: bootstrap, topic: "tickets.inbound", lines: markers) == 0)
        try await waitFor("markers handled") { counts()["tickets.received", default: 0] >= 1030 }

        let final = counts()
        #expect(final["tickets.received"] == 1030)
        #expect(final["tickets.rejected"] == 100)
        #expect(final["deadletter"] == 100)
        let records = tail.output.compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        let dead = records.filter { $0.topic == "deadletter" }
        #expect(dead.allSatisfy { $0.key?.hasPrefix("bad/") == true && $0.headers?["dlq.topic"] == "tickets.inbound" })
        #expect(Set(dead.compactMap { $0.headers?["dlq.error.code"] }) == ["not_json", "not_an_object", "invalid_fields"])
        #expect(Set(records.filter { $0.topic == "tickets.received" }.compactMap(\.key)).count == 1030, "one event per ticket")

        #expect(await httpGet(port, "/readyz")?.status == 200, "still healthy")
        let metrics = await httpGet(port, "/metrics")?.body ?? ""
        for expected in [#"helpdesk_deadletters_total{service="intake",reason="not_json"} 20"#,
                         #"helpdesk_deadletters_total{service="intake",reason="not_an_object"} 10"#,
                         #"helpdesk_deadletters_total{service="intake",reason="invalid_fields"} 70"#,
                         #"helpdesk_intake_rejected_total{reason="ineligiblePlan"} 50"#,
                         #"helpdesk_intake_rejected_total{reason="unknownOrganization"} 50"#] {
            #expect(metrics.contains(expected), "\(expected)")
        }
        #expect(await tail.terminate() == 0)
        #expect(await intake.terminate() == 0, "graceful shutdown on SIGTERM")
        #expect(await broker.terminate() == 0)
    }
}

@Suite("helpdesk send", .serialized, .timeLimit(.minutes(2)))
struct SendCommandTests {
    @Test func sendsTheDemoTicketsAndRefusesInvalidOnes() async throws {
        let helpdesk = Binaries.path("helpdesk")
        let broker = try ChildProcess(helpdesk, ["broker"], stdin: Pipe())
        try await waitFor("the broker's bootstrap line") { !broker.output.isEmpty }
        let demo = ConfigurationDriftTests.root.appendingPathComponent("demo/tickets.jsonl").path
        let send = try ChildProcess(helpdesk, ["send", demo, "--bootstrap-servers", broker.output[0]])
        #expect(await send.exitStatus() == 0)
        try await waitFor("the summary line") { send.output.last == "7 message(s) sent" }
        #expect(send.output.first?.hasPrefix("sent crm/DEMO-1 → tickets.inbound[") == true)

        let invalid = FileManager.default.temporaryDirectory.appendingPathComponent("invalid-\(UUID()).json").path
        try #"{"type":"ticket.opened","source":"crm","externalId":"X"}"#.write(toFile: invalid, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: invalid) }
        let refused = try ChildProcess(helpdesk, ["send", invalid, "--bootstrap-servers", broker.output[0]])
        #expect(await refused.exitStatus() == 1)
        #expect(await broker.terminate() == 0)
    }
}
