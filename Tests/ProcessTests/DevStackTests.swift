import Foundation
import Testing
import TestSupport

/// `helpdesk dev`, the README's main job: the whole stack as processes, demo tickets flowing
/// to `sla.started` and `escalation.requested`, and Ctrl-C leaving no process behind.
@Suite("dev stack", .serialized, .timeLimit(.minutes(5)))
struct DevStackTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The processes whose parent is `pid`.
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == pid
        }
    }

    /// Waits for `helpdesk dev`'s banner; if it exits first, fails with its last lines.
    static func waitForStack(_ dev: ChildProcess) async throws {
        try await waitFor("the stack ready", seconds: 150) {
            dev.output.contains { $0.contains("HelpdeskSLA is running") } || !dev.process.isRunning
        }
        if !dev.process.isRunning {
            let lines = dev.output.suffix(30).joined(separator: "\n")
            Issue.record("helpdesk dev exited before the stack was ready:\n\(lines)")
            throw Timeout(what: "the stack ready")
        }
    }

    /// Whether a process runs (a zombie waiting for its reaper does not).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    @Test func theDemoFlowsToStartedClocksAndAnEscalationAndCtrlCLeavesNothingBehind() async throws {
        let bootstrapFile = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID()).bootstrap").path
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID())-data").path
        let offset = Int.random(in: 1_000...20_000)
        // The history on PostgreSQL, as compose runs it (the end-to-end runs keep SQLite).
        let database = try await PostgresServer.shared().makeDatabase()
        let dev = try ChildProcess(Binaries.path("helpdesk"), [
            "dev", "--demo", "--scale", "sla-timer=2", "--port-offset", String(offset),
            "--compose-file", Self.root.appendingPathComponent("compose/docker-compose.yml").path,
            "--demo-file", Self.root.appendingPathComponent("demo/tickets.jsonl").path,
            "--bootstrap-file", bootstrapFile, "--data-dir", dataDir, "--set", "HISTORY_DATABASE_URL=\(database)",
        ], environment: ["LOG_LEVEL": "warning"], mergeStandardError: true)
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        try await Self.waitForStack(dev)
        let banner = dev.output.joined(separator: "\n")
        for expected in ["intake API:", "intake API keys:", "escalation tokens:", "sla-timer-2", "/metrics", "notifications:", "history API:"] {
            #expect(banner.contains(expected), "the banner names \(expected)")
        }
        let bootstrap = try String(contentsOfFile: bootstrapFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

        var board = ""
        try await waitFor("demo tickets on the board", seconds: 60) {
            board = (try? await runHelpdesk(["watch", "--once", "--all", "--bootstrap-servers", bootstrap]).stdout) ?? ""
            let escalated = board.split(separator: "\n").contains { $0.hasPrefix("crm/DEMO-2") && $0.contains("requested") }
            // Three support tickets get a clock (the docs question and the ineligible one do not).
            return escalated && board.contains("of 3 seen")
        }
        #expect(board.split(separator: "\n").contains { $0.hasPrefix("crm/DEMO-1") && $0.contains("critical") }, "\(board)")

        // The notifier writes every notification to its log (no --smtp): the escalation request
        // told the support lead and management.
        try await waitFor("the notifier delivers the escalation request's notifications", seconds: 30) {
            let metrics = await httpGet(8085 + offset, "/metrics")?.body ?? ""
            return (metricValue(metrics, #"helpdesk_notifier_delivered_total{channel="log"}"#) ?? 0) >= 2
        }
        // The history service keeps every ticket in PostgreSQL, which the CLI reads too.
        var report = ""
        try await waitFor("the history holds DEMO-1's met clock and DEMO-2's escalation", seconds: 30) {
            report = (try? await runHelpdesk(["report", "ticket", "crm/DEMO-1", "--database", database]).stdout) ?? ""
            let escalation = (try? await runHelpdesk(["report", "ticket", "crm/DEMO-2", "--database", database]).stdout) ?? ""
            return report.contains("clock met") && escalation.contains("escalation requested")
        }
        // The forecaster's outlook reaches a new ticket's answer over HTTP, and its word on the
        // demo tickets reaches the history.
        var answer = ""
        try await waitFor("intake's answer carries the forecaster's outlook", seconds: 60) {
            let body = #"{"source":"crm","externalId":"DEV-HTTP-\#(UUID())","organizationId":"acme","subject":"Printer jam","reportedSeverity":"minor"}"#
            answer = await httpRequest(8081 + offset, "POST", "/v1/tickets", token: "change-me-crm-key-0123456789", body: body)?.body ?? ""
            return answer.contains(#""firstResponse""#)
        }
        #expect(answer.contains(#""severity":"minor""#) && answer.contains(#""text":"within 8 business hours"#), "\(answer)")
        try await waitFor("the history holds DEMO-2's expectation (still waiting for its answer)", seconds: 30) {
            (try? await runHelpdesk(["report", "ticket", "crm/DEMO-2", "--database", database]).stdout)?.contains("sla.expected") == true
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dataDir)/history.sqlite"), "--set HISTORY_DATABASE_URL wins over --data-dir")
        #expect(report.contains("ticket.classified") && report.contains("sla.started"), "\(report)")
        let children = Self.children(of: dev.process.processIdentifier)
        #expect(children.count == 9, "broker, intake, classifier, two sla-timers, escalation, notifier, history, forecaster: \(children)")
        kill(dev.process.processIdentifier, SIGINT)
        #expect(await dev.exitStatus() == 0)
        for child in children {
            #expect(!Self.isRunning(child), "process \(child) outlived helpdesk dev")
        }
        #expect(!FileManager.default.fileExists(atPath: bootstrapFile), "the bootstrap file is removed")
    }
}
