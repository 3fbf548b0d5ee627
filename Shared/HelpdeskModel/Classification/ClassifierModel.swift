import Foundation
import Yams

/// How much each piece of evidence counts: a linear model over the classifier's features (a
/// signal found in the text, an impact field, the category, the reporter's severity) with
/// one score per class, turned into probabilities (softmax). Fitted on the development set by
/// `helpdesk classify --fit` (`scripts/fit-classifier.sh`) and committed as data
/// (`classifier-model.yaml`), or set by hand in a file of the same shape
/// (`CLASSIFIER_MODEL_FILE`).
///
/// Asymmetric by design: critical wins as soon as its probability reaches `criticalAt`, well
/// below an even share, because a critical ticket run on an 8-hour clock is the worst error.
public struct ClassifierModel: Sendable, Equatable {
    public enum Label: Int, Sendable, CaseIterable, Comparable {
        case critical, major, minor, docs
        // Switches, not array literals: these run for every ticket, and a literal allocates.
        public var name: String {
            switch self {
            case .critical: "critical"
            case .major: "major"
            case .minor: "minor"
            case .docs: "docs"
            }
        }
        public init?(name: String) {
            guard let label = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = label
        }
        public static func < (a: Label, b: Label) -> Bool { a.rawValue < b.rawValue }

        public init(severity: Severity) {
            switch severity.level {
            case 1: self = .critical
            case 2: self = .major
            default: self = .minor
            }
        }

        /// The class of a verdict: documentation when routed there, else its severity.
        public init(_ classification: Classification) {
            self = classification.route == .docs ? .docs : Label(severity: classification.severity)
        }

        /// The severity a verdict of this class runs (documentation runs no clock: minor).
        public var severity: Severity {
            switch self {
            case .critical: .critical
            case .major: .major
            case .minor, .docs: .minor
            }
        }
    }

    /// Critical wins when its probability reaches this.
    public var criticalAt: Double
    /// Added to the score of the reporter's own severity: set by hand, not fitted (a fitted
    /// vote would learn a corpus's habits, such as reporters who overstate).
    public var reporterVote: Double
    /// Per class, in `Label` order.
    public var bias: [Double]
    /// Feature name → per class weights, in `Label` order.
    public var weights: [String: [Double]]
    /// Where the weights came from (kept in the file's header).
    public var provenance: String

    public init(criticalAt: Double, reporterVote: Double = 0.3, bias: [Double], weights: [String: [Double]],
                provenance: String = "") {
        self.criticalAt = criticalAt
        self.reporterVote = reporterVote
        self.bias = bias
        self.weights = weights
        self.provenance = provenance
    }

    public static let standardYAML = String(decoding: PackageResources.classifier_model_yaml, as: UTF8.self)
    public static let standard: ClassifierModel = try! load(yaml: standardYAML)

    /// Scores per class, in `Label` order: the bias, each active feature's weights, and the
    /// reporter's hand-set vote for its own severity.
    public func scores(rows: [[Double]], reported: Severity?) -> [Double] {
        var scores = bias
        for row in rows { for k in scores.indices { scores[k] += row[k] } }
        Self.add(vote: reporterVote, for: reported, to: &scores)
        return scores
    }

    /// The reporter's vote: `vote` added to the score of the severity they reported, if any.
    public static func add(vote: Double, for reported: Severity?, to scores: inout [Double]) {
        if let reported { scores[Label(severity: reported).rawValue] += vote }
    }

    /// The model's verdict for the named features (unknown names count for nothing), before the
    /// classifier's own rules (no evidence, minor evidence only, a lower reported severity).
    public func decide(features: [String], reported: Severity? = nil) -> Label {
        decide(Self.probabilities(scores: scores(rows: features.compactMap { weights[$0] }, reported: reported)))
    }

    /// Probabilities per class, in `Label` order, from the scores.
    public static func probabilities(scores: [Double]) -> [Double] {
        let top = scores.max() ?? 0
        var probabilities = scores.map { Foundation.exp($0 - top) }
        let sum = probabilities.reduce(0, +)
        for k in probabilities.indices { probabilities[k] /= sum }
        return probabilities
    }

    /// The decision: critical at `criticalAt`, else the most probable of the others.
    public func decide(_ probabilities: [Double]) -> Label {
        if probabilities[Label.critical.rawValue] >= criticalAt { return .critical }
        // The first of the most probable (written out: this runs for every ticket).
        var best = Label.major
        if probabilities[best.rawValue] < probabilities[Label.minor.rawValue] { best = .minor }
        if probabilities[best.rawValue] < probabilities[Label.docs.rawValue] { best = .docs }
        return best
    }

    public static func load(yaml text: String) throws(ClassificationRules.RulesError) -> ClassifierModel {
        if let model = loadWritten(text) { return model }
        typealias RulesError = ClassificationRules.RulesError
        let mapping = try ClassificationRules.mapping(yaml: text, known: ["criticalAt", "reporterVote", "bias", "weights"])
        func row(_ node: Node?, _ key: String) throws(RulesError) -> [Double] {
            guard let fields = node?.mapping else {
                throw RulesError(key: key, problem: "must map critical, major, minor and docs to numbers")
            }
            var values = [Double?](repeating: nil, count: Label.allCases.count)
            for (name, value) in fields {
                guard let label = Label(name: name.scalar?.string ?? "") else {
                    throw RulesError(key: "\(key).\(name.scalar?.string ?? "")", problem: "unknown class (expected critical, major, minor, docs)")
                }
                guard let number = value.scalar.flatMap({ Double($0.string) }), isWeight(number) else {
                    throw RulesError(key: "\(key).\(label.name)", problem: "must be a number between -1000 and 1000")
                }
                values[label.rawValue] = number
            }
            if let missing = Label.allCases.first(where: { values[$0.rawValue] == nil }) {
                throw RulesError(key: "\(key).\(missing.name)", problem: "is required (critical, major, minor and docs each need a number)")
            }
            return values.map { $0! }
        }
        guard let threshold = mapping["criticalAt"]?.scalar.flatMap({ Double($0.string) }), isThreshold(threshold) else {
            throw RulesError(key: "criticalAt", problem: "must be a number in (0, 1]")
        }
        var reporterVote = 0.0
        if let node = mapping["reporterVote"] {
            guard let vote = node.scalar.flatMap({ Double($0.string) }), isVote(vote) else {
                throw RulesError(key: "reporterVote", problem: "must be a non-negative number")
            }
            reporterVote = vote
        }
        let bias = try row(mapping["bias"], "bias")
        guard let weightNodes = mapping["weights"]?.mapping else { throw RulesError(key: "weights", problem: "is required") }
        var weights = [String: [Double]]()
        for (name, node) in weightNodes {
            let feature = name.scalar?.string ?? ""
            weights[feature] = try row(node, "weights.\(feature)")
        }
        return ClassifierModel(criticalAt: threshold, reporterVote: reporterVote, bias: bias, weights: weights,
                               provenance: provenance(of: text))
    }

    /// A weight: bounded, so that no sum of weights overflows into a NaN probability.
    private static func isWeight(_ value: Double) -> Bool { value.isFinite && abs(value) <= 1000 }
    private static func isThreshold(_ value: Double) -> Bool { value > 0 && value <= 1 }
    private static func isVote(_ value: Double) -> Bool { value >= 0 && value.isFinite }

    /// The file's leading comment lines, without their "# ".
    private static func provenance(of text: String) -> String {
        text.split(separator: "\n").prefix { $0.hasPrefix("#") }.map { String($0.dropFirst(2)) }.joined(separator: "\n")
    }

    /// The model as `yaml` writes it, read line by line: a YAML parser takes seconds over ten
    /// thousand rows in a debug build, long enough to stall the tasks waiting on the model. Any
    /// other layout, or any value out of range, is nil: the YAML parser then reads it and says
    /// what is wrong.
    public static func loadWritten(_ text: String) -> ClassifierModel? {
        func row(_ line: Substring) -> [Double]? {
            guard line.hasPrefix("{ critical: "), line.hasSuffix(" }") else { return nil }
            let fields = line.dropFirst(2).dropLast(2).split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 4 else { return nil }
            var values = [Double]()
            for (field, label) in zip(fields, Label.allCases) {
                let parts = field.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == label.name,
                      let value = Double(parts[1].trimmingCharacters(in: .whitespaces)), isWeight(value) else { return nil }
                values.append(value)
            }
            return values
        }
        var criticalAt: Double?, reporterVote: Double?, bias: [Double]?
        var weights = [String: [Double]]()
        var inWeights = false
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if inWeights {
                guard line.hasPrefix("  "), let colon = line.range(of: ": {") else { return nil }
                let name = String(line[line.index(line.startIndex, offsetBy: 2)..<colon.lowerBound])
                guard !name.isEmpty, !name.hasPrefix(" "), weights[name] == nil,
                      let values = row(line[line.index(before: colon.upperBound)...]) else { return nil }
                weights[name] = values
            } else if line.hasPrefix("criticalAt: "), criticalAt == nil {
                criticalAt = Double(line.dropFirst("criticalAt: ".count))
            } else if line.hasPrefix("reporterVote: "), reporterVote == nil {
                reporterVote = Double(line.dropFirst("reporterVote: ".count))
            } else if line.hasPrefix("bias: "), bias == nil {
                bias = row(line.dropFirst("bias: ".count))
            } else if line == "weights:" {
                inWeights = true
            } else {
                return nil
            }
        }
        guard inWeights, let criticalAt, isThreshold(criticalAt), let bias else { return nil }
        let vote = reporterVote ?? 0
        guard isVote(vote) else { return nil }
        return ClassifierModel(criticalAt: criticalAt, reporterVote: vote, bias: bias, weights: weights,
                               provenance: provenance(of: text))
    }

    public static func load(file path: String) throws(ClassificationRules.RulesError) -> ClassifierModel {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ClassificationRules.RulesError(key: "", problem: "cannot read model file \(path)")
        }
        return try load(yaml: text)
    }

    /// The model as YAML, features in a stable order, weights to three decimals.
    public var yaml: String {
        func row(_ values: [Double]) -> String {
            "{ " + Label.allCases.map { "\($0.name): \(String(format: "%.3f", values[$0.rawValue]))" }.joined(separator: ", ") + " }"
        }
        var lines = provenance.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)" }
        lines.append("criticalAt: \(criticalAt)")
        lines.append("reporterVote: \(reporterVote)")
        lines.append("bias: \(row(bias))")
        lines.append("weights:")
        for feature in weights.keys.sorted() { lines.append("  \(feature): \(row(weights[feature]!))") }
        return lines.joined(separator: "\n") + "\n"
    }
}
