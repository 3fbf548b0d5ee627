import Foundation

/// Fits a `ClassifierModel` to labelled tickets: multinomial logistic regression over the
/// classifier's binary features, with an L2 penalty (few examples, many features) and a
/// heavier weight on critical examples (missing one is the worst error). Full-batch gradient
/// descent from zero for a fixed number of steps: the same data always gives the same model.
public struct ModelFit: Sendable {
    public struct Example: Sendable {
        public var features: [String]
        public var label: ClassifierModel.Label
        /// The reporter's severity, whose fixed vote the fit takes as given.
        public var reported: Severity?
        public init(features: [String], label: ClassifierModel.Label, reported: Severity? = nil) {
            self.features = features
            self.label = label
            self.reported = reported
        }
    }

    public var l2 = 0.0003
    public var steps = 3000
    public var rate = 0.5
    /// Per class, in `Label` order.
    public var classWeights = [3.0, 1.0, 1.0, 1.0]
    public var criticalAt = 0.22
    public var reporterVote = 0.3
    /// A word feature ("word.till", "deny.down", "pair.log in") is kept when this many training tickets have it; nil: no words.
    public var wordMinCount: Int? = 3

    public init() {}

    /// k-fold cross-validation on the examples (fold = index mod k): each example predicted by
    /// a model fitted without it. How hyperparameters are chosen without the held-out set.
    /// `predictor` makes, from a fold's model, what predicts the example at an index: the
    /// whole classifier (its fallbacks too), so the figures are the classifier's. The
    /// predictions come back in the examples' order.
    public func crossValidate<Prediction>(_ examples: [Example], rules: ClassificationRules, folds: Int,
                                          predictor: (ClassifierModel) throws -> (Int) -> Prediction) rethrows -> [Prediction] {
        var predictions = [Prediction?](repeating: nil, count: examples.count)
        for fold in 0..<folds {
            let training = examples.enumerated().filter { $0.offset % folds != fold }.map(\.element)
            let predict = try predictor(fit(training, rules: rules, provenance: ""))
            for offset in examples.indices where offset % folds == fold { predictions[offset] = predict(offset) }
        }
        return predictions.map { $0! }
    }

    /// The words used by at least `wordMinCount` of the examples, in name order.
    func wordFeatures(_ examples: [Example]) -> [String] {
        guard let wordMinCount else { return [] }
        var counts = [String: Int]()
        for example in examples {
            for feature in example.features where Classifier.isWordFeature(feature) { counts[feature, default: 0] += 1 }
        }
        return counts.filter { $0.value >= wordMinCount }.keys.sorted()
    }

    /// The closest non-increasing sequence (least squares): pool adjacent violators.
    static func nonIncreasing(_ values: [Double]) -> [Double] {
        var blocks = [(sum: Double, count: Int)]()
        for value in values {
            blocks.append((value, 1))
            while blocks.count > 1, blocks[blocks.count - 2].sum / Double(blocks[blocks.count - 2].count)
                < blocks[blocks.count - 1].sum / Double(blocks[blocks.count - 1].count) {
                let last = blocks.removeLast()
                blocks[blocks.count - 1].sum += last.sum
                blocks[blocks.count - 1].count += last.count
            }
        }
        return blocks.flatMap { Array(repeating: $0.sum / Double($0.count), count: $0.count) }
    }

    /// The features that carry critical evidence (the policy's critical criteria, a majority that
    /// cannot get in, a named dedicated contact), which the fit keeps ordered.
    public static func criticalEvidence(_ rules: ClassificationRules) -> Set<String> {
        features(of: rules, severity: .critical).union(["scope.majority.unavailable", Classifier.dedicatedContactFeature])
    }

    /// The features that carry minor evidence (the policy's minor criteria: few users, cosmetic,
    /// low impact, a past outage, the service still working, and critical evidence beside one of
    /// them: "tempered.majorityUsers.stillWorks"), which the fit keeps from raising, as it does
    /// every word of a clause that denies ("deny.till").
    public static func minorEvidence(_ rules: ClassificationRules) -> Set<String> {
        let minor = Set(rules.signals.filter { $0.severity == .minor }.map(\.name))
        return features(of: rules, severity: .minor).union(Classifier.temperedFeatures(of: rules, tempering: minor))
    }

    /// Whether a row of weights (critical, major, minor, docs) never lowers a verdict: critical ≥
    /// major ≥ minor ≥ docs, as the fit keeps critical evidence.
    public static func isOrdered(_ weights: [Double]) -> Bool {
        weights.count == 4 && weights[0] >= weights[1] && weights[1] >= weights[2] && weights[2] >= weights[3]
    }

    /// Whether a row of weights (critical, major, minor, docs) never raises a verdict: critical ≤
    /// major ≤ minor and major ≤ docs.
    public static func isLowering(_ weights: [Double]) -> Bool {
        weights.count == 4 && weights[0] <= weights[1] && weights[1] <= weights[2] && weights[1] <= weights[3]
    }

    /// The text, subject and impact features of the signals whose criterion has `severity`.
    private static func features(of rules: ClassificationRules, severity: Severity) -> Set<String> {
        Set(rules.signals.filter { $0.severity == severity }.flatMap { signal in
            ["text.\(signal.name)", "\(Classifier.subjectPrefix)\(signal.name)"] + (ClassificationRules.structuredSignals.contains(signal.name) ? ["impact.\(signal.name)"] : [])
        })
    }

    /// The examples a labelled file gives for a lexicon: each ticket's features and label.
    public static func examples(_ tickets: [LabelledTicket], rules: ClassificationRules) -> [Example] {
        let words = try! Classifier.wordNames(in: tickets.flatMap { [$0.ticket.subject, $0.ticket.description ?? ""] }, rules: rules)
        let pairs = try! Classifier.blank(rules, words: words).pairNames(in: tickets.map { ClassifierInput($0.ticket) })
        let classifier = try! Classifier.blank(rules, words: words, pairs: pairs)
        return tickets.map {
            Example(features: classifier.featureNames(classifier.evidence(ClassifierInput($0.ticket))), label: $0.label,
                    reported: $0.ticket.reportedSeverity)
        }
    }

    /// Fits the weights of a lexicon's features and the examples' words, critical evidence
    /// ordered and minor evidence kept from raising.
    public func fit(_ examples: [Example], rules: ClassificationRules, provenance: String) -> ClassifierModel {
        fit(examples, features: Classifier.features(of: rules), ordered: Self.criticalEvidence(rules),
            lowering: Self.minorEvidence(rules), provenance: provenance)
    }

    /// Fits weights for `features`. Each of `ordered` keeps critical ≥ major ≥ minor ≥ docs, so
    /// that adding that evidence to a ticket never lowers its verdict; each of `lowering` keeps
    /// critical ≤ major ≤ minor and major ≤ docs, so that adding it never raises the severity; so
    /// does every word of a clause that denies ("deny.till"), whatever `lowering` says.
    public func fit(_ examples: [Example], features: [String], ordered: Set<String> = [], lowering: Set<String> = [],
                    provenance: String) -> ClassifierModel {
        let features = features + wordFeatures(examples)
        let classes = ClassifierModel.Label.allCases.count
        let index = Dictionary(uniqueKeysWithValues: features.enumerated().map { ($1, $0) })
        let isOrdered = features.map(ordered.contains)
        let isLowering = features.map { lowering.contains($0) || $0.hasPrefix(Classifier.denyingPrefix) }
        let rows = examples.map { example in example.features.compactMap { index[$0] } }
        var bias = [Double](repeating: 0, count: classes)
        var weights = [[Double]](repeating: [Double](repeating: 0, count: classes), count: features.count)
        let totalWeight = examples.reduce(0) { $0 + classWeights[$1.label.rawValue] }
        guard totalWeight > 0 else {
            return ClassifierModel(criticalAt: criticalAt, reporterVote: reporterVote, bias: bias, weights: [:], provenance: provenance)
        }
        for _ in 0..<steps {
            var biasGradient = [Double](repeating: 0, count: classes)
            var gradient = [[Double]](repeating: [Double](repeating: 0, count: classes), count: features.count)
            for (example, active) in zip(examples, rows) {
                var scores = bias
                for feature in active { for k in 0..<classes { scores[k] += weights[feature][k] } }
                ClassifierModel.add(vote: reporterVote, for: example.reported, to: &scores)
                let probabilities = ClassifierModel.probabilities(scores: scores)
                let weight = classWeights[example.label.rawValue] / totalWeight
                for k in 0..<classes {
                    let error = (probabilities[k] - (k == example.label.rawValue ? 1 : 0)) * weight
                    biasGradient[k] += error
                    for feature in active { gradient[feature][k] += error }
                }
            }
            for k in 0..<classes { bias[k] -= rate * biasGradient[k] }
            for feature in features.indices {
                for k in 0..<classes { weights[feature][k] -= rate * (gradient[feature][k] + l2 * weights[feature][k]) }
                if isOrdered[feature] { weights[feature] = Self.nonIncreasing(weights[feature]) }
                if isLowering[feature] {
                    let rising = Self.nonIncreasing(weights[feature][0..<3].reversed()).reversed()
                    weights[feature] = Array(rising) + [max(weights[feature][3], rising[rising.index(after: rising.startIndex)])]
                }
            }
        }
        let rounded = { (value: Double) in (value * 1000).rounded() / 1000 }
        return ClassifierModel(
            criticalAt: criticalAt, reporterVote: reporterVote, bias: bias.map(rounded),
            weights: Dictionary(uniqueKeysWithValues: features.enumerated().map { ($1, weights[$0].map(rounded)) }),
            provenance: provenance)
    }
}
