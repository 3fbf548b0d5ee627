import Foundation
import HelpdeskModel
import Testing

let corpusPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/classification-corpus.jsonl").path

@Suite("Classifier")
struct ClassifierTests {
    let classifier = Classifier()

    @Test func theLabelledCorpusIsClassifiedAccurately() throws {
        let corpus = try String(contentsOfFile: corpusPath, encoding: .utf8)
        let evaluation = try ClassifierEvaluation(classifier: classifier, jsonl: corpus)
        #expect(evaluation.total >= 80)
        #expect(evaluation.accuracy >= 0.95, "\(evaluation.report)")
        let criticalRow = evaluation.matrix["critical"] ?? [:]
        #expect(criticalRow.filter { $0.key != "critical" }.values.reduce(0, +) == 0, "every critical ticket is critical\n\(evaluation.report)")
    }
}

@Suite("Classifier signals")
struct ClassifierSignalTests {
    let classifier = Classifier()

    func signals(_ subject: String, _ description: String? = nil, impact: Impact? = nil) -> Set<String> {
        Set(classifier.classify(ClassifierInput(subject: subject, description: description, impact: impact)).signals.map(\.signal))
    }

    @Test(arguments: [
        ("The website is down", "serviceDown"), ("Outages in all regions", "serviceDown"), ("Users CANNOT LOG IN", "serviceDown"),
        ("We can't access the dashboard", "serviceDown"), ("Business stopped at the plant", "operationsDisrupted"),
        ("Everyone is affected", "majorityUsers"), ("Most of our users see errors", "majorityUsers"),
        ("There is no workaround", "noWorkaround"), ("Service degraded", "degraded"), ("Requests are timing out", "degraded"),
        ("The installer crashes", "degraded"), ("Installation halted on site B", "installationsHalted"),
        ("Working in a restricted fashion", "restrictedOperation"), ("Several users report it", "multipleUsers"),
        ("Temporary workaround: restart", "temporaryWorkaround"), ("Minor issue with sorting", "partialLoss"),
        ("Installer warning about Java", "installationsImpaired"), ("No impact on our work", "lowImpact"),
        ("Only one user sees it", "fewUsers"), ("We have a workaround", "longTermWorkaround"), ("Typos in the footer", "cosmetic"),
    ])
    func eachSignalIsFoundInText(text: String, signal: String) {
        #expect(signals(text).contains(signal), "\(text)")
    }

    @Test(arguments: [
        (Impact(serviceDown: true), "serviceDown", Severity.critical), (Impact(usersAffected: .all), "majorityUsers", .critical),
        (Impact(usersAffected: .majority), "majorityUsers", .critical), (Impact(workaround: Workaround.none), "noWorkaround", .critical),
        (Impact(usersAffected: .multiple), "multipleUsers", .major), (Impact(workaround: .temporary), "temporaryWorkaround", .major),
        (Impact(installations: .halted), "installationsHalted", .major), (Impact(usersAffected: .few), "fewUsers", .minor),
        (Impact(usersAffected: .one), "fewUsers", .minor), (Impact(workaround: .longTerm), "longTermWorkaround", .minor),
        (Impact(workaround: .notScalable), "longTermWorkaround", .minor), (Impact(installations: .impaired), "installationsImpaired", .minor),
        (Impact(cosmetic: true), "cosmetic", .minor),
    ])
    func eachImpactFieldIsASignal(impact: Impact, signal: String, severity: Severity) {
        let result = classifier.classify(ClassifierInput(subject: "Help", impact: impact))
        let found = result.signals.first { $0.signal == signal }
        #expect(found?.severity == severity)
        #expect(found?.foundIn.hasPrefix("impact.") == true)
        #expect(found?.criterion.isEmpty == false)
    }

    @Test(arguments: ["The service is not down", "No outage, just slow menus", "It isn't unavailable", "There was never an outage"])
    func negationCancelsASignal(text: String) {
        #expect(!signals(text).contains("serviceDown"), "\(text)")
    }

    @Test func pluralsCaseAndPunctuationDoNotMatter() {
        #expect(signals("TYPO!").contains("cosmetic"))
        #expect(signals("several USERS,").contains("multipleUsers"))
        #expect(signals("time-outs", "requests time out").contains("degraded"))
        #expect(signals("drop-down menu misaligned") == ["cosmetic"])
    }

    @Test func structuredFieldsOutweighText() {
        let result = classifier.classify(ClassifierInput(
            subject: "Everything is down!!!", impact: Impact(usersAffected: .one, cosmetic: true)))
        #expect(result.severity == .minor)
    }

    @Test func theReporterSettlesCloseCallsButNeverOverridesEvidence() {
        let none = ClassifierInput(subject: "Question", reportedSeverity: .major)
        #expect(classifier.classify(none).severity == .major)
        #expect(classifier.classify(ClassifierInput(subject: "Question")).severity == .minor)
        #expect(classifier.classify(ClassifierInput(subject: "Question")).confidence == 0.2)
        let overstated = classifier.classify(ClassifierInput(subject: "Typo on the login page", reportedSeverity: .critical))
        #expect(overstated.severity == .minor)
        #expect(overstated.disagreesWithReporter)
        let understated = classifier.classify(ClassifierInput(
            subject: "Help", impact: Impact(serviceDown: true, usersAffected: .all), reportedSeverity: .minor))
        #expect(understated.severity == .critical)
        #expect(understated.disagreesWithReporter)
        #expect(understated.confidence > 0.9)
    }

    @Test func criticalTicketsNeedANamedContact() {
        let without = classifier.classify(ClassifierInput(subject: "Site down for everyone"))
        #expect(without.severity == .critical && without.needsDedicatedContact)
        let with = classifier.classify(ClassifierInput(subject: "Site down for everyone", impact: Impact(dedicatedContact: "ops@acme.test")))
        #expect(!with.needsDedicatedContact)
        #expect(!classifier.classify(ClassifierInput(subject: "Typo")).needsDedicatedContact)
    }

    @Test func documentationErrorsAreRoutedToDocs() {
        #expect(classifier.classify(ClassifierInput(subject: "x", category: .documentation)).route == .docs)
        let kb = classifier.classify(ClassifierInput(subject: "KB article about SSO is outdated"))
        #expect(kb.route == .docs)
        #expect(kb.docsReason?.contains("outdated") == true)
        // A service problem is support, even if it mentions the docs.
        #expect(classifier.classify(ClassifierInput(subject: "Following the docs, the site is down for everyone")).route == .support)
        #expect(classifier.classify(ClassifierInput(subject: "Docs say to restart, restart fails")).route == .support)
    }

    @Test func impactBeatsTheDocumentationCategory() {
        let outage = classifier.classify(ClassifierInput(
            subject: "Everyone is locked out", description: "No workaround.", impact: Impact(serviceDown: true),
            category: .documentation))
        #expect(outage.route == .support)
        #expect(outage.severity == .critical)
        #expect(outage.docsReason == nil)
        #expect(outage.supportReason?.hasPrefix("filed as documentation, but it reports service impact (") == true)
        // Without a service-impact signal the category still decides.
        let typo = classifier.classify(ClassifierInput(subject: "Typo on the pricing page", category: .documentation))
        #expect(typo.route == .docs)
        #expect(typo.supportReason == nil)
    }
}

@Suite("Classifier rules file")
struct ClassifierRulesTests {
    @Test(arguments: [
        ("weights: { structured: 2, text: 1 }\n", "weights.reporter: must be a non-negative number"),
        ("colour: red\n", "colour: unknown key (expected weights, defaultSeverity, negations, signals, docs)"),
    ])
    func invalidRulesAreRefusedWithTheKey(yaml: String, message: String) {
        do {
            _ = try ClassificationRules.load(yaml: yaml)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func everyStructuredSignalMustBeDefinedAndSeveritiesMustBeValid() {
        let withoutCosmetic = ClassificationRules.standardYAML.replacingOccurrences(of: "  cosmetic:\n", with: "  cosmeticX:\n")
        #expect(throws: ClassificationRules.RulesError(key: "signals.cosmetic", problem: "is required (the impact fields produce it)")) {
            try ClassificationRules.load(yaml: withoutCosmetic)
        }
        let badSeverity = ClassificationRules.standardYAML.replacingOccurrences(of: "severity: critical\n    criterion: service down", with: "severity: urgent\n    criterion: service down")
        #expect(throws: ClassificationRules.RulesError.self) { try ClassificationRules.load(yaml: badSeverity) }
    }

    @Test func theBuiltInRulesLoad() {
        #expect(ClassificationRules.standard.signals.count == 15)
        #expect(ClassificationRules.standard.weights.structured > ClassificationRules.standard.weights.text)
        #expect(ClassificationRules.standard.weights.reporter < ClassificationRules.standard.weights.text)
    }
}
