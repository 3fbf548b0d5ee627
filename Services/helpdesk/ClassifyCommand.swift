import ArgumentParser
import Foundation
import HelpdeskModel

/// `helpdesk classify`: the classifier the service runs, on one ticket or a labelled corpus.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify one ticket.opened JSON from standard input, or evaluate a labelled corpus.",
        discussion: """
            Prints the classification as JSON, with "route": "support" or "docs". With --evaluate FILE.jsonl
            (lines of {"expect": critical|major|minor|docs, "ticket": {…}}) prints accuracy and a confusion matrix.
            """)

    @Option(help: "Rules YAML (default: $CLASSIFIER_RULES_FILE, else the built-in rules).")
    var rules: String?

    @Option(help: "A labelled corpus to evaluate instead of classifying standard input.")
    var evaluate: String?

    func run() throws {
        let classifier = Classifier(rules: try loadRules())
        if let evaluate {
            guard let text = try? String(contentsOfFile: evaluate, encoding: .utf8) else {
                throw CLIError("cannot read \(evaluate)")
            }
            do {
                print(try ClassifierEvaluation(classifier: classifier, jsonl: text).report)
            } catch {
                throw CLIError("\(evaluate): \(error)")
            }
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

    private func loadRules() throws -> ClassificationRules {
        guard let path = rules ?? ProcessInfo.processInfo.environment["CLASSIFIER_RULES_FILE"] else { return .standard }
        do {
            return try ClassificationRules.load(file: path)
        } catch {
            throw CLIError("rules \(path): \(error)")
        }
    }
}
