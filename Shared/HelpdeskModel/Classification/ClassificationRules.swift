import Foundation
import Yams

/// One kind of evidence: which policy criterion it satisfies, which severity it points to,
/// how much it weighs, and the phrases that reveal it in text.
public struct SignalRule: Sendable, Equatable {
    public var name: String
    public var severity: Severity
    public var criterion: String
    public var weight: Double
    public var phrases: [String]
    /// Longer phrases in which a phrase does not count ("broken link" is not a broken service).
    public var except: [String]
}

/// The classifier's rules and weights (`CLASSIFIER_RULES_FILE`; built-in default encodes
/// the policy table).
public struct ClassificationRules: Sendable, Equatable {
    public struct Weights: Sendable, Equatable {
        /// Multiplier for evidence in the structured `impact` fields.
        public var structured: Double
        /// Multiplier for evidence in the subject and description.
        public var text: Double
        /// The vote of the requester's `reportedSeverity`.
        public var reporter: Double
    }

    public struct DocsRules: Sendable, Equatable {
        /// Words that name documentation ("docs", "kb article").
        public var subjects: [String]
        /// Words that report a mistake in it ("typo", "outdated").
        public var problems: [String]
    }

    public var weights: Weights
    public var defaultSeverity: Severity
    public var negations: [String]
    public var signals: [SignalRule]
    public var docs: DocsRules

    /// Signals the structured impact fields produce; a rules file must define each.
    public static let structuredSignals = [
        "serviceDown", "majorityUsers", "noWorkaround", "multipleUsers", "temporaryWorkaround", "installationsHalted",
        "fewUsers", "longTermWorkaround", "installationsImpaired", "cosmetic",
    ]

    public func signal(named name: String) -> SignalRule? { signals.first { $0.name == name } }

    public static let standard: ClassificationRules = try! load(yaml: standardYAML)

    public struct RulesError: Error, Equatable, CustomStringConvertible {
        public let key: String
        public let problem: String
        public var description: String { key.isEmpty ? problem : "\(key): \(problem)" }
        public init(key: String, problem: String) {
            self.key = key
            self.problem = problem
        }
    }

    public static func load(yaml text: String) throws(RulesError) -> ClassificationRules {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RulesError(key: "", problem: "not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping else { throw RulesError(key: "", problem: "must be a mapping") }
        func entry(_ key: String) -> Node? { mapping[key] }
        for key in mapping.keys.compactMap(\.scalar?.string)
        where !["weights", "defaultSeverity", "negations", "signals", "docs"].contains(key) {
            throw RulesError(key: key, problem: "unknown key (expected weights, defaultSeverity, negations, signals, docs)")
        }
        func number(_ node: Node?, _ key: String) throws(RulesError) -> Double {
            guard let text = node?.scalar?.string, let value = Double(text), value >= 0, value.isFinite else {
                throw RulesError(key: key, problem: "must be a non-negative number")
            }
            return value
        }
        func strings(_ node: Node?, _ key: String) throws(RulesError) -> [String] {
            guard let list = node?.sequence else { throw RulesError(key: key, problem: "must be a list of phrases") }
            var result = [String]()
            for (index, item) in list.enumerated() {
                guard let text = item.scalar?.string, !PhraseIndex.wordHashes(text).isEmpty else {
                    throw RulesError(key: "\(key)[\(index)]", problem: "must be a phrase with at least one word")
                }
                result.append(text)
            }
            return result
        }
        guard let weightNode = entry("weights")?.mapping else { throw RulesError(key: "weights", problem: "is required") }
        let weights = Weights(
            structured: try number(weightNode["structured"], "weights.structured"),
            text: try number(weightNode["text"], "weights.text"),
            reporter: try number(weightNode["reporter"], "weights.reporter"))
        let defaultText = entry("defaultSeverity")?.scalar?.string ?? "minor"
        guard let defaultSeverity = Severity(parsing: defaultText) else {
            throw RulesError(key: "defaultSeverity", problem: "\"\(defaultText)\" is not one of \(Severity.allowedSpellings)")
        }
        let negations = try strings(entry("negations"), "negations")
        guard let signalNodes = entry("signals")?.mapping else { throw RulesError(key: "signals", problem: "is required") }
        var signals = [SignalRule]()
        for (nameNode, node) in signalNodes {
            let name = nameNode.scalar?.string ?? ""
            let key = "signals.\(name)"
            guard let fields = node.mapping else { throw RulesError(key: key, problem: "must be a mapping") }
            let severityText = fields["severity"]?.scalar?.string ?? ""
            guard let severity = Severity(parsing: severityText) else {
                throw RulesError(key: "\(key).severity", problem: "\"\(severityText)\" is not one of \(Severity.allowedSpellings)")
            }
            guard let criterion = fields["criterion"]?.scalar?.string, !criterion.isEmpty else {
                throw RulesError(key: "\(key).criterion", problem: "is required")
            }
            let phrases = fields["phrases"] == nil ? [] : try strings(fields["phrases"], "\(key).phrases")
            let except = fields["except"] == nil ? [] : try strings(fields["except"], "\(key).except")
            for field in fields.keys.compactMap(\.scalar?.string)
            where !["severity", "criterion", "weight", "phrases", "except"].contains(field) {
                throw RulesError(key: "\(key).\(field)", problem: "unknown key (expected severity, criterion, weight, phrases, except)")
            }
            signals.append(SignalRule(name: name, severity: severity, criterion: criterion,
                                      weight: try number(fields["weight"], "\(key).weight"), phrases: phrases, except: except))
        }
        for name in structuredSignals where !signals.contains(where: { $0.name == name }) {
            throw RulesError(key: "signals.\(name)", problem: "is required (the impact fields produce it)")
        }
        guard let docsNode = entry("docs")?.mapping else { throw RulesError(key: "docs", problem: "is required") }
        let docs = DocsRules(subjects: try strings(docsNode["subjects"], "docs.subjects"),
                             problems: try strings(docsNode["problems"], "docs.problems"))
        return ClassificationRules(weights: weights, defaultSeverity: defaultSeverity, negations: negations,
                                   signals: signals, docs: docs)
    }

    public static func load(file path: String) throws(RulesError) -> ClassificationRules {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RulesError(key: "", problem: "cannot read rules file \(path)")
        }
        return try load(yaml: text)
    }
}
