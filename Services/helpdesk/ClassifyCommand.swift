import ArgumentParser
import Foundation
import HelpdeskModel

/// `helpdesk classify`: the classifier the service runs, on one ticket or a labelled file; and
/// the fitting of its model.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify one ticket.opened JSON from standard input, evaluate a labelled file, or fit the model.",
        discussion: """
            Prints the classification as JSON, with "route": "support" or "docs". With --evaluate FILE.jsonl
            (lines of {"expect": critical|major|minor|docs, "ticket": {…}}) prints accuracy, precision and recall per
            class, the confusion matrix and every critical ticket classified lower with its explanation. With
            --fit FILE.jsonl fits the model's weights to the labelled tickets and prints the model YAML
            (scripts/fit-classifier.sh writes the built-in one); with --cross-validate K, the --evaluate report of
            K-fold cross-validation instead. With --features FILE.jsonl prints what the fit reads of each ticket.
            """)

    @Option(help: "Lexicon YAML (default: $CLASSIFIER_RULES_FILE, else the built-in lexicon).")
    var rules: String?

    @Option(help: "Model YAML (default: $CLASSIFIER_MODEL_FILE, else the built-in model).")
    var model: String?

    @Option(help: "A labelled file to evaluate instead of classifying standard input.")
    var evaluate: String?

    @Option(help: ArgumentHelp(
        "A labelled file whose tickets' features, as the fit reads them, are printed as JSON Lines (repeatable).",
        discussion: "One line per ticket: file, externalId, expect, reported (1-3 or null), features. Words are named alike across the files."))
    var features: [String] = []

    @Option(help: "A labelled file to fit the model to; prints the model YAML.")
    var fit: String?

    @Option(help: "With --fit: the probability at which critical wins.")
    var criticalAt: Double = ModelFit().criticalAt

    @Option(help: "With --fit: instead of the model, print k-fold cross-validation on the file: the --evaluate report, each ticket classified by the model fitted without it.")
    var crossValidate: Int?

    @Option(help: "With --fit: the L2 penalty.")
    var l2: Double = ModelFit().l2

    @Option(help: "With --fit: how much more a critical example counts.")
    var criticalWeight: Double = ModelFit().classWeights[0]

    @Option(help: "With --fit: the reporter's vote for its own severity (set, not fitted).")
    var reporterVote: Double = ModelFit().reporterVote

    @Option(help: "With --fit: how many tickets must use a word for it to be a feature.")
    var wordMinCount: Int = ModelFit().wordMinCount ?? 3

    func run() throws {
        let settings = try ClassifierFiles(rules: rules, model: model)
        if !features.isEmpty {
            guard fit == nil, evaluate == nil, crossValidate == nil else {
                throw CLIError("--features: use it alone, not with --fit, --evaluate or --cross-validate")
            }
            try printFeatures(rules: settings.rules)
            return
        }
        if let fit {
            for (option, value, valid, range) in [("--critical-weight", "\(criticalWeight)", criticalWeight > 0, "above 0"),
                                                  ("--l2", "\(l2)", l2 >= 0, "0 or more"),
                                                  ("--critical-at", "\(criticalAt)", criticalAt > 0 && criticalAt <= 1, "above 0, at most 1"),
                                                  ("--word-min-count", "\(wordMinCount)", wordMinCount >= 1, "1 or more"),
                                                  ("--reporter-vote", "\(reporterVote)", reporterVote >= 0, "0 or more")] where !valid {
                throw CLIError("\(option): \(value); it takes \(range)")
            }
            let tickets = try labelled(fit)
            var fitting = ModelFit()
            fitting.criticalAt = criticalAt
            fitting.l2 = l2
            fitting.classWeights[0] = criticalWeight
            fitting.wordMinCount = wordMinCount
            fitting.reporterVote = reporterVote
            let provenance = """
                Fitted by scripts/fit-classifier.sh (helpdesk classify --fit) on \(URL(fileURLWithPath: fit).lastPathComponent),
                \(tickets.count) tickets: logistic regression over the signals and the words (of the subject line too) and word pairs used by at least \
                \(fitting.wordMinCount ?? 0) tickets, L2 \(fitting.l2), critical examples weighted \(fitting.classWeights[0]),
                \(fitting.steps) steps, reporter vote \(fitting.reporterVote) (set, not fitted), critical evidence ordered critical ≥ major ≥ minor ≥ docs,
                minor evidence (with the words of clauses that deny, deny.*) critical ≤ major ≤ minor, major ≤ docs.
                Do not edit by hand: refit.
                """
            let examples = ModelFit.examples(tickets, rules: settings.rules)
            if let folds = crossValidate {
                guard folds >= 2, folds <= tickets.count else {
                    throw CLIError("--cross-validate: \(folds) folds; it takes 2 to \(tickets.count) (the number of tickets)")
                }
                let inputs = tickets.map { ClassifierInput($0.ticket) }
                let classifications = try fitting.crossValidate(examples, rules: settings.rules, folds: folds) { model in
                    let classifier = try Classifier(rules: settings.rules, model: model)
                    return { classifier.classify(inputs[$0]) }
                }
                let evaluation = ClassifierEvaluation(tickets: tickets, classifications: classifications)
                print(String(format: "cross-validation (%d folds): accuracy %.1f%%, critical recall %.1f%%, critical precision %.1f%%",
                             folds, evaluation.accuracy * 100, evaluation.recall("critical") * 100,
                             evaluation.precision("critical") * 100))
                print("each ticket classified by the model fitted without its fold:\n")
                print(evaluation.report)
                return
            }
            print(fitting.fit(examples, rules: settings.rules, provenance: provenance).yaml, terminator: "")
            return
        }
        let classifier = try settings.classifier()
        if let evaluate {
            print(ClassifierEvaluation(classifier: classifier, tickets: try labelled(evaluate)).report)
            return
        }
        let input = Array(FileHandle.standardInput.readDataToEndOfFile())
        let message: InboundMessage
        do {
            message = try InboundMessage.decode(input, defaultKind: .opened)
        } catch {
            throw CLIError("standard input: \(error)")
        }
        guard case .opened(let ticket) = message else { throw CLIError("standard input: expected a ticket.opened message") }
        let encoder = WireJSON.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        print(String(decoding: try encoder.encode(classifier.classify(ClassifierInput(ticket))), as: UTF8.self))
    }

    /// What the fit reads of each ticket of the `features` files, for analysis outside Swift.
    private func printFeatures(rules: ClassificationRules) throws {
        struct Line: Encodable {
            let file: String, externalId: String, expect: String, reported: Int?, features: [String]
            enum CodingKeys: CodingKey { case file, externalId, expect, reported, features }
            // "reported": null rather than no key, so every line has the same keys.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(file, forKey: .file)
                try container.encode(externalId, forKey: .externalId)
                try container.encode(expect, forKey: .expect)
                try container.encode(reported, forKey: .reported)
                try container.encode(features, forKey: .features)
            }
        }
        let tickets = try features.flatMap { file in try labelled(file).map { (file: file, labelled: $0) } }
        let examples = ModelFit.examples(tickets.map(\.labelled), rules: rules)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for (ticket, example) in zip(tickets, examples) {
            let line = Line(file: ticket.file, externalId: ticket.labelled.ticket.externalId, expect: example.label.name,
                            reported: example.reported?.rawValue, features: example.features)
            print(String(decoding: try encoder.encode(line), as: UTF8.self))
        }
    }

    private func labelled(_ path: String) throws -> [LabelledTicket] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIError("cannot read \(path)") }
        do {
            return try LabelledTicket.parse(jsonl: text)
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}

/// The lexicon and model files a command names, or the environment's, or the built-in ones.
struct ClassifierFiles {
    let rules: ClassificationRules
    private let modelPath: String?

    init(rules rulesPath: String?, model modelPath: String?) throws {
        let environment = ProcessInfo.processInfo.environment
        if let path = rulesPath ?? environment["CLASSIFIER_RULES_FILE"] {
            do { rules = try ClassificationRules.load(file: path) } catch { throw CLIError("rules \(path): \(error)") }
        } else {
            rules = .standard
        }
        self.modelPath = modelPath ?? environment["CLASSIFIER_MODEL_FILE"]
    }

    /// The lexicon with the model (the built-in one unless a file is named).
    func classifier() throws -> Classifier {
        var model = ClassifierModel.standard
        if let path = modelPath {
            do { model = try ClassifierModel.load(file: path) } catch { throw CLIError("model \(path): \(error)") }
        }
        do { return try Classifier(rules: rules, model: model) } catch { throw CLIError("model: \(error)") }
    }
}
