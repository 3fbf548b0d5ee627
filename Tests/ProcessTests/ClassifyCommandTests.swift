import Foundation
import Testing

/// `helpdesk classify` as a user runs it.
@Suite("helpdesk classify CLI")
struct ClassifyCommandTests {
    func run(_ arguments: [String], stdin: String = "") async throws -> (status: Int32, stdout: String, stderr: String) {
        try await runHelpdesk(arguments, stdin: stdin, unset: ["CLASSIFIER_RULES_FILE", "CLASSIFIER_MODEL_FILE"])
    }

    @Test func classifiesOneTicketFromStandardInput() async throws {
        let result = try await run(["classify"], stdin: #"{"source":"crm","externalId":"1","organizationId":"acme","subject":"SSO login fails for everyone","impact":{"dedicatedContact":"ops@acme.test"}}"#)
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(json?["route"] as? String == "support")
        #expect(json?["severity"] as? String == "critical")
        #expect(json?["needsDedicatedContact"] as? Bool == false)
        #expect((json?["signals"] as? [[String: Any]])?.contains { $0["signal"] as? String == "majorityUsers" } == true)

        let docs = try await run(["classify"], stdin: #"{"source":"crm","externalId":"2","organizationId":"acme","subject":"Typo in the KB article on exports"}"#)
        #expect(docs.stdout.contains(#""route" : "docs""#))
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    @Test func evaluatesALabelledFile() async throws {
        let result = try await run(["classify", "--evaluate", Self.fixtures.appendingPathComponent("classifier-validation.jsonl").path])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("accuracy "))
        #expect(result.stdout.contains("class      precision  recall   tickets\ncritical   "))
        #expect(result.stdout.contains("expected \\ classified"))
        #expect(result.stdout.contains("critical tickets classified lower: "))
    }

    /// The fitting script's command: a model from a labelled file, usable with --model.
    /// (That the committed model is the development set's fit is a unit test.)
    @Test func fitsAModelThatClassifyUses() async throws {
        let labelled = FileManager.default.temporaryDirectory.appendingPathComponent("labelled-\(UUID()).jsonl").path
        let lines = (0..<8).map { i in
            let (label, subject) = [("critical", "Nobody can log in, no workaround"), ("major", "Exports are slow for several users"),
                                    ("minor", "Typo on the settings page"), ("docs", "The KB article on exports is outdated")][i % 4]
            return #"{"expect":"\#(label)","ticket":{"source":"crm","externalId":"F-\#(i)","organizationId":"acme","subject":"\#(subject)"}}"#
        }
        try lines.joined(separator: "\n").write(toFile: labelled, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: labelled) }
        let fitted = try await run(["classify", "--fit", labelled])
        #expect(fitted.status == 0)
        #expect(fitted.stdout.hasPrefix("# Fitted by scripts/fit-classifier.sh"))
        let model = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID()).yaml").path
        try fitted.stdout.write(toFile: model, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: model) }
        let classified = try await run(["classify", "--model", model], stdin: #"{"source":"crm","externalId":"1","organizationId":"acme","subject":"Nobody can log in"}"#)
        #expect(classified.stdout.contains(#""severity" : "critical""#))
        let crossValidated = try await run(["classify", "--fit", labelled, "--cross-validate", "2"])
        #expect(crossValidated.stdout.hasPrefix("cross-validation (2 folds): accuracy "))
        // Then the --evaluate report over every ticket, each classified by its fold's model.
        #expect(crossValidated.stdout.contains(" of 8)\n"))
        #expect(crossValidated.stdout.contains("expected \\ classified"))
        #expect(crossValidated.stdout.contains("critical tickets classified lower: "))
    }

    /// `--features`: what the fit reads of each ticket, one JSON line each, for analysis elsewhere.
    @Test func printsWhatTheFitReadsOfEachTicket() async throws {
        let labelled = FileManager.default.temporaryDirectory.appendingPathComponent("labelled-\(UUID()).jsonl").path
        try """
            {"expect":"critical","ticket":{"source":"crm","externalId":"F-0","organizationId":"acme","subject":"Nobody can log in, no workaround","reportedSeverity":1}}
            {"expect":"docs","ticket":{"source":"crm","externalId":"F-1","organizationId":"acme","subject":"The KB article is outdated"}}
            """.write(toFile: labelled, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: labelled) }
        let result = try await run(["classify", "--features", labelled])
        #expect(result.status == 0)
        let lines = try result.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        try #require(lines.count == 2)
        #expect(lines[0]?["file"] as? String == labelled)
        #expect(lines[0]?["externalId"] as? String == "F-0")
        #expect(lines[0]?["expect"] as? String == "critical")
        #expect(lines[0]?["reported"] as? Int == 1)
        let critical = try #require(lines[0]?["features"] as? [String])
        #expect(critical.contains("text.serviceDown") && critical.contains("word.nobody") && critical.contains("pair.no workaround"))
        #expect(lines[1]?["reported"] is NSNull)
        #expect((lines[1]?["features"] as? [String])?.contains("text.docsMistake") == true)
        let mixed = try await run(["classify", "--features", labelled, "--fit", labelled])
        #expect(mixed.status != 0)
        #expect(mixed.stderr == "helpdesk: --features: use it alone, not with --fit, --evaluate or --cross-validate\n")
    }

    @Test func badInputIsOneLineAndNonZero() async throws {
        let result = try await run(["classify"], stdin: #"{"source":"crm","externalId":"1"}"#)
        #expect(result.status != 0)
        #expect(result.stderr == "helpdesk: standard input: organizationId: is required; subject: is required\n")
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID()).yaml").path
        try "negations: [not]\nweights: 1\n".write(toFile: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: rules) }
        let badRules = try await run(["classify", "--rules", rules], stdin: "{}")
        #expect(badRules.status != 0)
        #expect(badRules.stderr.contains("weights: unknown key (expected negations, scopeBreaks, synonyms, quantities, signals, docs)"))
        #expect(badRules.stderr.split(separator: "\n").count == 1)
    }
}
