import Foundation
import Yams

/// One kind of evidence: which policy criterion it satisfies, the severity the policy gives
/// that criterion, and the phrases that reveal it in text.
public struct SignalRule: Sendable, Equatable {
    public var name: String
    public var severity: Severity
    public var criterion: String
    public var phrases: [String]
    /// Longer phrases in which a phrase does not count ("broken link" is not a broken service).
    public var except: [String]
    /// Pairs of phrase lists that count when a phrase of each occurs in one clause, within
    /// eight words ("nobody in the London office can log in": `nobody` … `login`). A side may
    /// be `"#majority"`: a number read as a majority ("all 40 stores").
    public var together: [[[String]]] = []
    /// Signals whose text evidence this one cancels ("was down yesterday, fine now": the outage
    /// is over).
    public var cancels: [String] = []
}

/// The classifier's lexicon (`CLASSIFIER_RULES_FILE`; built in: `classifier-rules.yaml`): how
/// each policy criterion shows in words. How much each counts is the model's
/// (`ClassifierModel`).
public struct ClassificationRules: Sendable, Equatable {
    public struct DocsRules: Sendable, Equatable {
        /// Words that name documentation ("docs", "kb article").
        public var subjects: [String]
        /// Words that report a mistake in it ("typo", "outdated").
        public var problems: [String]
    }

    public struct QuantityRules: Sendable, Equatable {
        public var nouns: [String]
        public var groups: [String]
        public var totals: [String]
        public var fillers: [String]
        public var all: [String]
        /// People or devices that are a part of an organization: "all drivers" is several, not a majority.
        public var parts: [String]
        /// Units of time: "every 20 minutes" and "2 minute logins" count no one.
        public var times: [String]
    }

    public var negations: [String]
    public var scopeBreaks: [String]
    /// Canonical word → the words and phrases written as it.
    public var synonyms: [(canonical: String, variants: [String])]
    public var quantities: QuantityRules
    public var signals: [SignalRule]
    public var docs: DocsRules

    public static func == (a: ClassificationRules, b: ClassificationRules) -> Bool {
        a.negations == b.negations && a.scopeBreaks == b.scopeBreaks && a.quantities == b.quantities && a.signals == b.signals
            && a.docs == b.docs && a.synonyms.map(\.canonical) == b.synonyms.map(\.canonical)
            && a.synonyms.map(\.variants) == b.synonyms.map(\.variants)
    }

    /// Signals the structured impact fields and the numbers in a text produce; a rules file must
    /// define each.
    public static let structuredSignals = [
        "serviceDown", "majorityUsers", "noWorkaround", "multipleUsers", "temporaryWorkaround", "installationsHalted",
        "fewUsers", "longTermWorkaround", "installationsImpaired", "cosmetic",
    ]

    public func signal(named name: String) -> SignalRule? { signals.first { $0.name == name } }

    /// Each impact signal's index among `signals`, in `structuredSignals` order; every one is required.
    static func structuredRows(of signals: [SignalRule]) throws(RulesError) -> [Int] {
        var rows = [Int]()
        for name in structuredSignals {
            guard let row = signals.firstIndex(where: { $0.name == name }) else {
                throw RulesError(key: "signals.\(name)", problem: "is required (the impact fields produce it)")
            }
            rows.append(row)
        }
        return rows
    }

    public static let standardYAML = String(decoding: PackageResources.classifier_rules_yaml, as: UTF8.self)
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

    /// The top-level mapping of a YAML file whose keys must be among `known`.
    static func mapping(yaml text: String, known: [String]) throws(RulesError) -> Node.Mapping {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RulesError(key: "", problem: "not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping else { throw RulesError(key: "", problem: "must be a mapping") }
        for key in mapping.keys.compactMap(\.scalar?.string) where !known.contains(key) {
            throw RulesError(key: key, problem: "unknown key (expected \(known.joined(separator: ", ")))")
        }
        return mapping
    }

    public static func load(yaml text: String) throws(RulesError) -> ClassificationRules {
        let mapping = try mapping(yaml: text, known: ["negations", "scopeBreaks", "synonyms", "quantities", "signals", "docs"])
        func strings(_ node: Node?, _ key: String) throws(RulesError) -> [String] {
            guard let list = node?.sequence else { throw RulesError(key: key, problem: "must be a list of phrases") }
            var result = [String]()
            for (index, item) in list.enumerated() {
                guard let text = item.scalar?.string, !TextNormalizer.wordHashes(text).isEmpty else {
                    throw RulesError(key: "\(key)[\(index)]", problem: "must be a phrase with at least one word")
                }
                result.append(text)
            }
            return result
        }
        func fields(_ node: Node?, _ key: String, allowed: [String]) throws(RulesError) -> Node.Mapping {
            guard let fields = node?.mapping else { throw RulesError(key: key, problem: "must be a mapping") }
            for field in fields.keys.compactMap(\.scalar?.string) where !allowed.contains(field) {
                throw RulesError(key: "\(key).\(field)", problem: "unknown key (expected \(allowed.joined(separator: ", ")))")
            }
            return fields
        }
        let negations = try strings(mapping["negations"], "negations")
        let scopeBreaks = mapping["scopeBreaks"] == nil ? [] : try strings(mapping["scopeBreaks"], "scopeBreaks")
        var synonyms = [(canonical: String, variants: [String])]()
        if let node = mapping["synonyms"] {
            guard let entries = node.mapping else { throw RulesError(key: "synonyms", problem: "must be a mapping") }
            for (word, list) in entries {
                let canonical = word.scalar?.string ?? ""
                guard TextNormalizer.wordHashes(canonical).count == 1 else {
                    throw RulesError(key: "synonyms.\(canonical)", problem: "the canonical form must be one word")
                }
                let variants = try strings(list, "synonyms.\(canonical)")
                for (index, variant) in variants.enumerated() where TextNormalizer.wordHashes(variant).count > 4 {
                    throw RulesError(key: "synonyms.\(canonical)[\(index)]", problem: "must be at most four words")
                }
                synonyms.append((canonical, variants))
            }
        }
        // Negations and scope breaks are single words once synonyms are applied.
        var normalizer = TextNormalizer(synonyms: synonyms)
        for (key, list) in [("negations", negations), ("scopeBreaks", scopeBreaks)] {
            for (index, entry) in list.enumerated() where normalizer.internPhrase(entry).count != 1 {
                throw RulesError(key: "\(key)[\(index)]", problem: "\"\(entry)\" must be one word (or a synonym of one)")
            }
        }
        let quantityKeys = ["nouns", "groups", "totals", "fillers", "all", "parts", "times"]
        let quantityNode = try fields(mapping["quantities"], "quantities", allowed: quantityKeys)
        var quantityLists = [String: [String]]()
        for key in quantityKeys { quantityLists[key] = try strings(quantityNode[key], "quantities.\(key)") }
        let quantities = QuantityRules(nouns: quantityLists["nouns"]!, groups: quantityLists["groups"]!,
                                       totals: quantityLists["totals"]!, fillers: quantityLists["fillers"]!,
                                       all: quantityLists["all"]!, parts: quantityLists["parts"]!,
                                       times: quantityLists["times"]!)
        guard let signalNodes = mapping["signals"]?.mapping else { throw RulesError(key: "signals", problem: "is required") }
        var signals = [SignalRule]()
        for (nameNode, node) in signalNodes {
            let name = nameNode.scalar?.string ?? ""
            let key = "signals.\(name)"
            let entry = try fields(node, key, allowed: ["severity", "criterion", "phrases", "except", "together", "cancels"])
            let severityText = entry["severity"]?.scalar?.string ?? ""
            guard let severity = Severity(parsing: severityText) else {
                throw RulesError(key: "\(key).severity", problem: "\"\(severityText)\" is not one of \(Severity.allowedSpellings)")
            }
            guard let criterion = entry["criterion"]?.scalar?.string, !criterion.isEmpty else {
                throw RulesError(key: "\(key).criterion", problem: "is required")
            }
            let phrases = entry["phrases"] == nil ? [] : try strings(entry["phrases"], "\(key).phrases")
            let except = entry["except"] == nil ? [] : try strings(entry["except"], "\(key).except")
            var together = [[[String]]]()
            if let pairs = entry["together"] {
                guard let list = pairs.sequence else { throw RulesError(key: "\(key).together", problem: "must be a list of pairs of lists") }
                for (index, pair) in list.enumerated() {
                    guard let sides = pair.sequence, sides.count == 2 else {
                        throw RulesError(key: "\(key).together[\(index)]", problem: "must be a pair of phrase lists")
                    }
                    together.append([try strings(sides[0], "\(key).together[\(index)][0]"),
                                     try strings(sides[1], "\(key).together[\(index)][1]")])
                }
            }
            let cancels = entry["cancels"] == nil ? [] : try strings(entry["cancels"], "\(key).cancels")
            signals.append(SignalRule(name: name, severity: severity, criterion: criterion, phrases: phrases, except: except,
                                      together: together, cancels: cancels))
        }
        for signal in signals {
            for (index, name) in signal.cancels.enumerated() where !signals.contains(where: { $0.name == name }) {
                throw RulesError(key: "signals.\(signal.name).cancels[\(index)]", problem: "\"\(name)\" is not a signal")
            }
        }
        _ = try structuredRows(of: signals)
        let docsNode = try fields(mapping["docs"], "docs", allowed: ["subjects", "problems"])
        let docs = DocsRules(subjects: try strings(docsNode["subjects"], "docs.subjects"),
                             problems: try strings(docsNode["problems"], "docs.problems"))
        return ClassificationRules(negations: negations, scopeBreaks: scopeBreaks, synonyms: synonyms, quantities: quantities,
                                   signals: signals, docs: docs)
    }

    public static func load(file path: String) throws(RulesError) -> ClassificationRules {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RulesError(key: "", problem: "cannot read rules file \(path)")
        }
        return try load(yaml: text)
    }
}
