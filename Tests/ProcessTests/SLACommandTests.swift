import Foundation
import Testing

/// `helpdesk sla` as a user runs it: exit codes, standard output, one-line errors.
@Suite("helpdesk sla CLI")
struct SLACommandTests {
    func helpdesk(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await runHelpdesk(arguments, unset: ["HELPDESK_POLICY_FILE"])
    }

    @Test(arguments: [("critical", "2026-03-09T15:30:00Z"), ("1", "2026-03-09T15:30:00Z"), ("major", "2026-03-09T18:30:00Z"),
                      ("3", "2026-03-09T22:30:00Z")])
    func dueAnswersTheDesignExample(severity: String, expected: String) async throws {
        let run = try await helpdesk(["sla", "due", "--severity", severity, "--opened", "2026-03-06T23:30:00Z"])
        #expect(run.status == 0)
        #expect(run.stdout == expected + "\n")
        #expect(run.stderr.isEmpty)
    }

    @Test func elapsedAndExplain() async throws {
        let elapsed = try await helpdesk(["sla", "elapsed", "--from", "2026-01-09T23:00:00Z", "--to", "2026-01-12T17:00:00Z"])
        #expect(elapsed.stdout == "7200\n")
        let explain = try await helpdesk(["sla", "explain", "--severity", "critical", "--opened", "2026-03-06T23:30:00Z"])
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("Fri 2026-03-06 16:30:00 MST – 17:00:00 MST  30m (total 30m)"))
        #expect(explain.stdout.contains("Mon 2026-03-09 09:00:00 MDT – 09:30:00 MDT  30m (total 1h)"))
        #expect(explain.stdout.hasSuffix("due 2026-03-09T15:30:00Z (Mon 2026-03-09 09:30:00 MDT)\n"))
    }

    @Test func aPolicyFileChangesTheAnswer() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID()).yaml").path
        try "holidays: [2026-03-09]\nseverities: { critical: { firstResponse: 30m } }\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await helpdesk(["sla", "due", "--severity", "critical", "--opened", "2026-03-06T23:30:00Z", "--policy", path])
        #expect(run.stdout == "2026-03-07T00:00:00Z\n")
        let later = try await helpdesk(["sla", "due", "--severity", "critical", "--opened", "2026-03-07T00:00:00Z", "--policy", path])
        #expect(later.stdout == "2026-03-10T15:30:00Z\n")  // Monday is a holiday: Tuesday 09:30 MDT
    }

    @Test func planAndMetricPickTheTarget() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID()).yaml").path
        try """
            calendars:
              around-the-clock: { timezone: UTC, hours: { start: "00:00", end: "24:00" }, days: [sun, mon, tue, wed, thu, fri, sat] }
            severities:
              critical: { resolution: { target: 8h } }
            plans:
              premium:
                severities:
                  critical: { calendar: around-the-clock, firstResponse: 30m, periodicUpdate: { target: 1h } }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Saturday evening: the premium plan counts around the clock; the default policy waits for Monday.
        let premium = try await helpdesk(["sla", "due", "--severity", "critical", "--opened", "2026-03-07T22:00:00Z", "--policy", path, "--plan", "premium"])
        #expect(premium.stdout == "2026-03-07T22:30:00Z\n")
        let resolution = try await helpdesk(["sla", "explain", "--severity", "critical", "--opened", "2026-03-06T23:30:00Z", "--policy", path,
                                       "--metric", "resolution"])
        #expect(resolution.stdout.contains("resolution within 8h of business time"))
        #expect(resolution.stdout.contains("pauses while: onHold, pending"))
        #expect(resolution.stdout.hasSuffix("due 2026-03-09T22:30:00Z (Mon 2026-03-09 16:30:00 MDT)\n"))
        let update = try await helpdesk(["sla", "explain", "--severity", "1", "--opened", "2026-03-07T22:00:00Z", "--policy", path,
                                   "--plan", "premium", "--metric", "periodicUpdate"])
        #expect(update.stdout.contains("plan premium, calendar: 00:00–24:00"))
        #expect(update.stdout.hasSuffix("due 2026-03-07T23:00:00Z (Sat 2026-03-07 23:00:00 GMT)\n"))
        let none = try await helpdesk(["sla", "due", "--severity", "minor", "--opened", "2026-03-07T22:00:00Z", "--policy", path, "--metric", "resolution"])
        #expect(none.status != 0 && none.stderr == "helpdesk: the default policy's minor tickets have no resolution target\n")
        let unknown = try await helpdesk(["sla", "due", "--severity", "minor", "--opened", "2026-03-07T22:00:00Z", "--policy", path, "--plan", "gold"])
        #expect(unknown.stderr.contains(#"--plan "gold" has no policy of its own (plans: premium)"#))
    }

    @Test(arguments: [
        (["sla", "due", "--severity", "1", "--opened", "2026-03-06T23:30:00Z", "--metric", "soon"], #"--metric "soon" is not one of firstResponse|nextReply|periodicUpdate|resolution"#),
        (["sla", "due", "--severity", "urgent", "--opened", "2026-03-06T23:30:00Z"], #"--severity "urgent" is not one of"#),
        (["sla", "due", "--severity", "1", "--opened", "2026-03-06 23:30"], #"--opened "2026-03-06 23:30" is not an ISO-8601 instant"#),
        (["sla", "due", "--opened", "2026-03-06T23:30:00Z"], "Missing expected argument '--severity <severity>'"),
        (["sla", "due", "--severity", "1", "--opened", "2026-03-06T23:30:00Z", "--policy", "/nonexistent.yaml"], "cannot read policy file"),
        (["sla", "elapsed", "--from", "x", "--to", "2026-03-06T23:30:00Z"], #"--from "x" is not an ISO-8601 instant"#),
    ])
    func badInputExitsNonZeroWithOneLine(arguments: [String], message: String) async throws {
        let run = try await helpdesk(arguments)
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("helpdesk: "))
        #expect(run.stderr.contains(message))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }
}
