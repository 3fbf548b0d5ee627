import Foundation
import Testing

/// `helpdesk classify` as a user runs it.
@Suite("helpdesk classify CLI")
struct ClassifyCommandTests {
    func run(_ arguments: [String], stdin: String = "") throws -> (status: Int32, stdout: String, stderr: String) {
        try runHelpdesk(arguments, stdin: stdin, unset: ["CLASSIFIER_RULES_FILE"])
    }

    @Test func classifiesOneTicketFromStandardInput() throws {
        let result = try run(["classify"], stdin: #"{"source":"crm","externalId":"1","organizationId":"acme","subject":"SSO login fails for everyone","impact":{"dedicatedContact":"ops@acme.test"}}"#)
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["route"] as? String == "support")
        #expect(json?["severity"] as? String == "critical")
        #expect(json?["needsDedicatedContact"] as? Bool == false)
        #expect((json?["signals"] as? [[String: Any]])?.contains { $0["signal"] as? String == "majorityUsers" } == true)

        let docs = try run(["classify"], stdin: #"{"source":"crm","externalId":"2","organizationId":"acme","subject":"Typo in the KB article on exports"}"#)
        #expect(docs.stdout.contains(#""route" : "docs""#))
    }

    @Test func evaluatesTheCorpus() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/classification-corpus.jsonl").path
        let result = try run(["classify", "--evaluate", corpus])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("accuracy "))
        #expect(result.stdout.contains("expected \\ classified"))
    }

    @Test func badInputIsOneLineAndNonZero() throws {
        let result = try run(["classify"], stdin: #"{"source":"crm","externalId":"1"}"#)
        #expect(result.status != 0)
        #expect(result.stderr == "helpdesk: standard input: organizationId: is required; subject: is required\n")
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID()).yaml").path
        try "weights: { structured: -1, text: 1, reporter: 0 }\n".write(toFile: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: rules) }
        let badRules = try run(["classify", "--rules", rules], stdin: "{}")
        #expect(badRules.status != 0)
        #expect(badRules.stderr.contains("weights.structured: must be a non-negative number"))
        #expect(badRules.stderr.split(separator: "\n").count == 1)
    }
}
