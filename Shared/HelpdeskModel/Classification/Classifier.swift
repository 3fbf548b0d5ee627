import Foundation

/// What a classification found and decided.
public struct Classification: Sendable, Equatable, Encodable {
    public enum Route: String, Sendable, Codable { case support, docs }
    public var route: Route
    public var severity: Severity
    public var signals: [ClassificationSignal]
    public var confidence: Double
    public var reportedSeverity: Severity?
    public var disagreesWithReporter: Bool
    public var needsDedicatedContact: Bool
    /// Why the ticket went to the documentation channel, when it did.
    public var docsReason: String?
    /// Why a ticket filed as documentation is a support ticket all the same, when it is.
    public var supportReason: String?
    /// The model's probability of each class (critical, major, minor, docs).
    public var probabilities: [String: Double]
    /// The words of the text that weighed most for the verdict, beside its signals (at most
    /// five, strongest first): the fitted model's words and word pairs ("till", "log in").
    public var words: [String]
}

/// What the classifier reads of a ticket.
public struct ClassifierInput: Sendable {
    public var subject: String
    public var description: String?
    public var impact: Impact?
    public var category: TicketCategory?
    public var reportedSeverity: Severity?

    /// Whether the reporter named someone to reach at any hour (`impact.dedicatedContact`), as
    /// the policy asks of every critical ticket.
    public var namesDedicatedContact: Bool {
        !(impact?.dedicatedContact?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "").isEmpty
    }

    public init(subject: String, description: String? = nil, impact: Impact? = nil, category: TicketCategory? = nil,
                reportedSeverity: Severity? = nil) {
        self.subject = subject
        self.description = description
        self.impact = impact
        self.category = category
        self.reportedSeverity = reportedSeverity
    }
}

/// Decides a ticket's severity the way a support engineer applying the policy table would,
/// and says why. Pure: lexicon and model in, classification out.
///
/// 1. **Evidence.** Each policy criterion is a signal, found in the impact fields or in the
///    text: the lexicon's phrases (any inflection or synonym, not negated), and numbers read as
///    how many are affected ("3 of 900 users", "all 12 clinics"). Each signal names the
///    criterion and quotes the words that triggered it.
/// 2. **Weighing.** The model scores each class from the signals, the words, the category, a
///    named dedicated contact and the reporter's severity; critical wins as soon as its
///    probability reaches `criticalAt`.
///    A lower reported severity never talks the evidence out of critical.
/// 3. **Route.** A ticket the model finds to be documentation feedback goes to the documentation
///    channel; one with service impact is support, whatever its category.
///
/// With no evidence at all, the reporter's severity applies (minor without one), and a
/// ticket filed as documentation goes to the documentation channel. With minor evidence only,
/// the verdict is never more urgent than that (minor for one filed as documentation). A text
/// that states all three of the policy's critical criteria (service down, most users, no
/// workaround), none of them negated or over, is critical.
public struct Classifier: Sendable {
    public let rules: ClassificationRules
    public let model: ClassifierModel
    /// Every feature the model reads, in a fixed order.
    public let features: [String]

    private let normalizer: TextNormalizer
    private let index: PhraseIndex
    /// Each signal's pairs of phrase lists.
    private let pairs: [(signal: Int, pair: PhraseIndex.Pair)]
    /// Sides of pairs that a number read as a majority also satisfies.
    private let majoritySides: Set<Int>
    /// Per signal, the signals whose text evidence it cancels.
    private let cancelled: [[Int]]
    static let majorityMarker = "#majority"
    private let quantities: QuantityReader
    /// Flat, four per feature (critical, major, minor, docs), in `features` order.
    private let featureWeights: [Double]
    /// Per signal: its rule's name, criterion and severity, and the rank of its name among the
    /// signals' names (the order in which a verdict lists signals of one severity).
    private let signalRules: [(name: String, criterion: String, severity: Severity, nameRank: Int)]
    /// Per impact signal (`ClassificationRules.structuredSignals` order): its signal's index.
    private let structuredRows: [Int]
    /// The word of each row ("till" for "word.till", "deny.till" and "subject.word.till", "log in" for
    /// "pair.log in"); their weights; and each vocabulary id's rows.
    public let words: [String]
    /// Flat, four per row (critical, major, minor, docs): one array, no reference per row.
    private let wordWeights: [Double]
    /// Per vocabulary id, two rows (or -1): its "word." and "deny." features, by the kind of clause
    /// it is read in (`WordKind`).
    private let wordRows: [Int32]
    /// Per vocabulary id, its "subject.word." row (or -1): apart, so that the description's
    /// words, most of a ticket, look up a table no larger than before.
    private let subjectRows: [Int32]
    /// Per row: its word's vocabulary id ("word.till" and "deny.till" share one; a pair has a
    /// negative mark of its own).
    private let wordOfRow: [Int32]
    /// The rows of the model's word pairs ("pair.log in"), by their two vocabulary ids.
    private let wordPairs: WordPairs
    /// Each row's feature name ("word.till", "deny.down", "pair.log in").
    private let wordFeatures: [String]
    /// Per row: whether it is a word of a clause that denies ("deny.till"), which never raises.
    private let denyingRow: [Bool]
    /// Per row: whether it is a word of any other clause ("word.till"; not a pair).
    private let plainWordRow: [Bool]
    /// Fewer different words than this in ordinary clauses, no criterion above minor and no
    /// documentation words: too little to read, so the reporter's view bounds the verdict
    /// ("Help", "Urgent!!"). Word pairs and the words of clauses that deny do not count.
    static let wordsToRead = 3
    /// The kind of clause a word is read in, which makes it a feature of its own.
    enum WordKind: Int, CaseIterable {
        /// Any clause but one that denies: "word.till".
        case plain
        /// A clause that denies or plays down critical evidence ("everyone can log in", "nothing is
        /// down", "fine now"): "deny.till", which the fit keeps from raising (critical ≤ major ≤
        /// minor), so that such a statement never raises a verdict.
        case denying
        /// The subject line, beside its plain reading: "subject.word.till". The line a writer
        /// sums a ticket up in says more per word than the description (`subject.` signals
        /// likewise). Read in clauses that do not deny only, so it never lets a denial raise.
        case subject

        var prefix: String {
            switch self {
            case .plain: "word."
            case .denying: "deny."
            case .subject: "subject.word."
            }
        }
    }
    /// The kinds a clause makes of its words (`plain`, `denying`): the rows per word of `wordRows`.
    static let clauseKinds = 2
    static let wordPrefix = WordKind.plain.prefix
    static let denyingPrefix = WordKind.denying.prefix
    /// Two words in a row in a clause that does not deny ("pair.log in", "pair.every store"): what
    /// a word alone cannot say.
    static let pairPrefix = "pair."
    private static let wordFeaturePrefixes = WordKind.allCases.map(\.prefix) + [pairPrefix]

    public static func isWordFeature(_ name: String) -> Bool {
        wordFeaturePrefixes.contains { name.hasPrefix($0) }
    }

    static func bareWord(_ name: String) -> String {
        for prefix in wordFeaturePrefixes where name.hasPrefix(prefix) { return String(name.dropFirst(prefix.count)) }
        return name
    }

    /// Each impact signal's index in `ClassificationRules.structuredSignals`.
    private static let structuredNumbers = Dictionary(uniqueKeysWithValues: ClassificationRules.structuredSignals.enumerated().map { ($1, $0) })
    private let structuredOffset: Int
    private let combinationOffset: Int
    private let categoryOffset: Int
    private let subjectOffset: Int
    private let temperedOffset: Int
    /// `impact.dedicatedContact`: the last feature.
    private let dedicatedContactOffset: Int
    /// The `tempered.` features' critical side (a signal, or -1 for a majority that cannot get
    /// in: the first combination) and tempering side (signals), in feature order.
    private let temperedCritical: [Int]
    private let temperedTempering: [Int]
    private let unavailableSignals: [Int]
    private let impairedSignals: [Int]
    private let slowSignals: [Int]
    /// majorityUsers, multipleUsers, fewUsers.
    private let scopeSignals: [Int]
    /// serviceDown, majorityUsers, noWorkaround: the policy's critical criteria that, all stated
    /// in the text, make a ticket critical (empty for a lexicon without them).
    private let statedCritical: [Int]
    private var docsSubjectGroup: Int { rules.signals.count }
    private var docsProblemGroup: Int { rules.signals.count + 1 }

    /// The built-in lexicon and model (built once: building compiles the lexicon and indexes
    /// the model's features, about 0.3 s in a debug build).
    public init() {
        self = Self.builtIn
    }

    private static let builtIn = try! Classifier(rules: .standard, model: .standard)

    /// A lexicon and a model that must agree: every feature the lexicon makes has weights, and
    /// every weight is for such a feature.
    public init(rules: ClassificationRules, model: ClassifierModel = .standard) throws(ClassificationRules.RulesError) {
        self.rules = rules
        self.model = model
        var normalizer = TextNormalizer(synonyms: rules.synonyms)
        // The phrase index sizes its tables by the vocabulary: it interns last.
        quantities = QuantityReader(
            nouns: rules.quantities.nouns, groups: rules.quantities.groups, totals: rules.quantities.totals,
            fillers: rules.quantities.fillers, all: rules.quantities.all, parts: rules.quantities.parts,
            times: rules.quantities.times, negations: rules.negations, normalizer: &normalizer)
        var sides = [[String]](), pairs = [(signal: Int, pair: PhraseIndex.Pair)]()
        var majoritySides = Set<Int>()
        for (number, signal) in rules.signals.enumerated() {
            for together in signal.together {
                pairs.append((number, PhraseIndex.Pair(first: sides.count, second: sides.count + 1)))
                for side in together {
                    if side.contains(Self.majorityMarker) { majoritySides.insert(sides.count) }
                    sides.append(side.filter { $0 != Self.majorityMarker })
                }
            }
        }
        self.pairs = pairs
        self.majoritySides = majoritySides
        cancelled = rules.signals.map { signal in signal.cancels.compactMap { name in rules.signals.firstIndex { $0.name == name } } }
        index = PhraseIndex(
            groups: rules.signals.map(\.phrases) + [rules.docs.subjects, rules.docs.problems],
            except: rules.signals.map(\.except), sides: sides,
            contrary: Set(rules.signals.indices.filter { rules.signals[$0].severity == .minor }),
            affirming: Set(rules.signals.indices.filter { rules.signals[$0].severity == .critical }),
            negations: rules.negations, scopeBreaks: rules.scopeBreaks, normalizer: &normalizer)
        // The model's words, as their inflections and synonyms read: "deny.x" in clauses that deny,
        // "word.x" elsewhere, and pairs "pair.x y".
        let words = model.weights.keys.filter(Self.isWordFeature).sorted()
        var wordIDs = [Int32]()
        var wordPairRows = [(first: Int32, second: Int32, row: Int32)]()
        var pairRowByKey = [UInt64: Int]()
        for (row, name) in words.enumerated() {
            let pair = name.hasPrefix(Self.pairPrefix)
            let parts = pair ? Self.bareWord(name).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                : [Self.bareWord(name)]
            let ids = parts.map { normalizer.internPhrase($0) }
            guard ids.count == (pair ? 2 : 1), ids.allSatisfy({ $0.count == 1 && $0[0] >= 0 }) else {
                throw ClassificationRules.RulesError(key: "weights.\(name)", problem: pair ? "must name two words" : "must name one word")
            }
            if pair {
                if let same = pairRowByKey.updateValue(row, forKey: WordPairs.key(ids[0][0], ids[1][0])) {
                    throw ClassificationRules.RulesError(
                        key: "weights.\(name)", problem: "is the same pair as weights.\(words[same]) (one inflection or synonym each)")
                }
                wordPairRows.append((ids[0][0], ids[1][0], Int32(row)))
                // Its own mark: a pair is never the twin of a word.
                wordIDs.append(-1 - Int32(row))
            } else {
                if name.hasPrefix(Self.denyingPrefix), let weights = model.weights[name], !ModelFit.isLowering(weights) {
                    throw ClassificationRules.RulesError(
                        key: "weights.\(name)", problem: "must keep critical ≤ major ≤ minor and major ≤ docs (a word of a clause that denies never raises a verdict)")
                }
                wordIDs.append(ids[0][0])
            }
        }
        normalizer.rebuild()
        wordPairs = WordPairs(wordPairRows, vocabularySize: normalizer.vocabularySize)
        self.normalizer = normalizer
        let kinds = Self.clauseKinds
        var wordRows = [Int32](repeating: -1, count: normalizer.vocabularySize * kinds)
        var subjectRows = [Int32](repeating: -1, count: normalizer.vocabularySize)
        for (row, id) in wordIDs.enumerated() where id >= 0 {
            let kind = WordKind.allCases.first { words[row].hasPrefix($0.prefix) }!
            let slot = Int(id) * kinds + kind.rawValue
            let same = kind == .subject ? subjectRows[Int(id)] : wordRows[slot]
            guard same < 0 else {
                throw ClassificationRules.RulesError(
                    key: "weights.\(words[row])",
                    problem: "is the same word as weights.\(words[Int(same)]) (one inflection or synonym each)")
            }
            if kind == .subject { subjectRows[Int(id)] = Int32(row) } else { wordRows[slot] = Int32(row) }
        }
        wordOfRow = wordIDs
        wordFeatures = words
        denyingRow = words.map { $0.hasPrefix(Self.denyingPrefix) }
        plainWordRow = words.map { $0.hasPrefix(Self.wordPrefix) }
        self.words = words.map(Self.bareWord)
        self.wordWeights = words.flatMap { model.weights[$0]! }
        self.wordRows = wordRows
        self.subjectRows = subjectRows
        let features = Self.features(of: rules)
        if let weights = model.weights[Self.dedicatedContactFeature], !ModelFit.isOrdered(weights) {
            throw ClassificationRules.RulesError(
                key: "weights.\(Self.dedicatedContactFeature)",
                problem: "must keep critical ≥ major ≥ minor ≥ docs (naming a dedicated contact never lowers a verdict)")
        }
        for feature in features where model.weights[feature] == nil {
            throw ClassificationRules.RulesError(
                key: "weights.\(feature)", problem: "the model has no weights for it (refit: scripts/fit-classifier.sh)")
        }
        for feature in model.weights.keys.sorted() where !features.contains(feature) && !Self.isWordFeature(feature) {
            throw ClassificationRules.RulesError(key: "weights.\(feature)", problem: "no such feature in the rules")
        }
        self.features = features
        dedicatedContactOffset = features.count - 1
        featureWeights = features.flatMap { model.weights[$0]! }
        let nameRanks = Dictionary(uniqueKeysWithValues: rules.signals.map(\.name).sorted().enumerated().map { ($1, $0) })
        signalRules = rules.signals.map { ($0.name, $0.criterion, $0.severity, nameRanks[$0.name]!) }
        let signalIndex = Dictionary(uniqueKeysWithValues: rules.signals.enumerated().map { ($1.name, $0) })
        // Rules built in code are checked as `ClassificationRules.load` checks a file.
        structuredRows = try ClassificationRules.structuredRows(of: rules.signals)
        structuredOffset = rules.signals.count
        combinationOffset = rules.signals.count + ClassificationRules.structuredSignals.count
        categoryOffset = combinationOffset + Self.combinations.count + 2
        subjectOffset = categoryOffset + TicketCategory.allCases.count
        temperedOffset = subjectOffset + rules.signals.count
        let tempered = Self.temperedSides(rules)
        temperedCritical = tempered.critical.map { $0 == Self.majorityUnavailable ? -1 : signalIndex[$0]! }
        temperedTempering = tempered.tempering.map { signalIndex[$0]! }
        unavailableSignals = ["serviceDown", "accessBlocked", "operationsDisrupted"].compactMap { signalIndex[$0] }
        impairedSignals = ["degraded", "installationsHalted", "restrictedOperation"].compactMap { signalIndex[$0] }
        slowSignals = ["slowOrIntermittent"].compactMap { signalIndex[$0] }
        scopeSignals = ["majorityUsers", "multipleUsers", "fewUsers"].map { signalIndex[$0]! }
        let stated = ["serviceDown", "majorityUsers", "noWorkaround"].compactMap { signalIndex[$0] }
        statedCritical = stated.count == 3 ? stated : []
    }

    /// The features a lexicon makes: each signal found in text, each impact signal, scope ×
    /// harm, the docs evidence, the category, each signal found in the subject, critical
    /// evidence beside what tempers it, and a named dedicated contact. (The reporter's severity
    /// is a fixed vote, `ClassifierModel.reporterVote`, not a fitted feature.)
    public static func features(of rules: ClassificationRules) -> [String] {
        rules.signals.map { "text.\($0.name)" } + ClassificationRules.structuredSignals.map { "impact.\($0)" }
            + Self.combinations.map { "scope.\($0.scope).\($0.kind)" }
            + ["text.docsMistake", "text.docsTerm"]
            + TicketCategory.allCases.map { "category.\($0.rawValue)" }
            + rules.signals.map { "\(subjectPrefix)\($0.name)" }
            + temperedFeatures(of: rules)
            + [dedicatedContactFeature]
    }

    /// The reporter named a dedicated contact (`ClassifierInput.namesDedicatedContact`): the
    /// policy asks one of every critical ticket, so naming one says the reporter expects
    /// critical handling. Kept ordered like critical evidence: it never lowers a verdict.
    static let dedicatedContactFeature = "impact.dedicatedContact"

    /// Critical evidence found beside what tempers it ("tempered.majorityUsers.stillWorks":
    /// "everyone … the other apps are fine"): each critical signal of the text, and a majority that
    /// cannot get in (`majorityUnavailable`), crossed with each minor signal of the text, a temporary
    /// workaround and several users. So the model can weigh "all users, but one app" apart from
    /// "all users" without a sum of single signals saying it.
    static let temperedPrefix = "tempered."
    static let majorityUnavailable = "majorityUnavailable"
    static let majorityUnavailableCombination = combinations.firstIndex { $0 == ("majority", "unavailable") }!

    /// The two sides the `tempered.` features cross: the critical evidence and what tempers it.
    static func temperedSides(_ rules: ClassificationRules) -> (critical: [String], tempering: [String]) {
        (rules.signals.filter { $0.severity == .critical }.map(\.name) + [majorityUnavailable],
         rules.signals.filter { $0.severity == .minor || ["temporaryWorkaround", "multipleUsers"].contains($0.name) }.map(\.name))
    }

    /// The `tempered.` features, critical side by critical side; with `tempering`, only those
    /// whose tempering side it holds.
    static func temperedFeatures(of rules: ClassificationRules, tempering kept: Set<String>? = nil) -> [String] {
        let sides = temperedSides(rules)
        return sides.critical.flatMap { critical in
            sides.tempering.filter { kept?.contains($0) ?? true }.map { "\(temperedPrefix)\(critical).\($0)" }
        }
    }

    /// A signal the subject states ("subject.serviceDown", beside "text.serviceDown"): the line a
    /// writer sums the ticket up in weighs apart from the rest of the text.
    static let subjectPrefix = "subject."

    /// How many are affected, crossed with how badly (unavailable, failing, slow): the policy's
    /// criteria combine ("a majority of users" and "service unavailable" is critical, a
    /// majority with a slow service is major), which a sum of single signals cannot say.
    static let combinations = ["majority", "multiple", "few", "unstated"].flatMap { scope in
        ["unavailable", "failing", "slow"].map { (scope: scope, kind: $0) }
    }

    /// The combination feature's offset among `combinations` for the signals found (by flag).
    private func combination(_ found: [Bool]) -> Int? {
        let kind: Int
        if unavailableSignals.contains(where: { found[$0] }) {
            kind = 0
        } else if impairedSignals.contains(where: { found[$0] }) {
            kind = 1
        } else if slowSignals.contains(where: { found[$0] }) {
            kind = 2
        } else {
            return nil
        }
        let scope = scopeSignals.firstIndex { found[$0] } ?? 3
        return scope * 3 + kind
    }

    /// What the classifier found, before weighing.
    public struct Evidence: Sendable {
        public var signals: [ClassificationSignal]
        /// Indices into `Classifier.features`, ascending.
        public var active: [Int]
        /// Indices into `Classifier.words` of the model's words the text uses, in order of first use.
        public var words: [Int]
        /// The documentation words found ("kb article", "outdated"), if any.
        public var docsTerm: String?
        public var docsProblem: String?
    }

    /// The names of the active features.
    public func featureNames(_ evidence: Evidence) -> [String] {
        evidence.active.map { features[$0] } + evidence.words.map { wordFeatures[$0] }
    }

    /// The lexicon with every weight zero, and `words` as the model's words: it reads what a
    /// ticket has (evidence, feature names) without weighing it.
    public static func blank(_ rules: ClassificationRules, words: [String] = [], pairs: [String] = []) throws(ClassificationRules.RulesError) -> Classifier {
        let features = features(of: rules) + words.flatMap { word in WordKind.allCases.map { $0.prefix + word } } + pairs.map { pairPrefix + $0 }
        return try Classifier(rules: rules, model: ClassifierModel(
            criticalAt: 1, bias: [0, 0, 0, 0], weights: Dictionary(uniqueKeysWithValues: features.map { ($0, [0.0, 0, 0, 0]) })))
    }

    /// The names the fit gives the words of `texts`: one per word as the classifier reads it
    /// (inflections and synonyms are one word), the synonyms' canonical word or else the
    /// shortest spelling seen.
    public static func wordNames(in texts: [String], rules: ClassificationRules) throws(ClassificationRules.RulesError) -> [String] {
        var normalizer = try blank(rules).normalizer
        var seen = Set<Int32>()
        var names = [String]()
        let spellings = Set(texts.flatMap(TextNormalizer.surfaceWords)).sorted { ($0.count, $0) < ($1.count, $1) }
        for name in rules.synonyms.map(\.canonical) + spellings {
            let ids = normalizer.internPhrase(name)
            if ids.count == 1, seen.insert(ids[0]).inserted { names.append(name) }
        }
        return names
    }

    /// The rows of the model's words in `tokens` not yet `seen`, in order: each word as a feature
    /// of the kind of clause it is in (`WordKind`), in the `subject` line's clauses that do not
    /// deny also as a subject word, and the pairs of two words in a row in clauses that do not deny.
    private func words(of tokens: [Token], clauses: [UInt8], subject: Bool, seen: inout [UInt64], into rows: inout [Int]) {
        let pairs = wordPairs
        let kinds = Self.clauseKinds
        tokens.withUnsafeBufferPointer { tokens in
            wordRows.withUnsafeBufferPointer { wordRows in
                subjectRows.withUnsafeBufferPointer { subjectRows in
                    pairs.ends.withUnsafeBufferPointer { ends in
                        seen.withUnsafeMutableBufferPointer { seen in
                            var clause = 0
                            var kind = Self.kind(clauses[0])
                            // The word before, when some pair starts with it (-1: none).
                            var previous: Int32 = -1
                            @inline(__always) func add(_ row: Int) {
                                guard row >= 0, seen[row >> 6] & (1 << UInt64(row & 63)) == 0 else { return }
                                seen[row >> 6] |= 1 << UInt64(row & 63)
                                rows.append(row)
                            }
                            for token in tokens {
                                let id = Int(token.id)
                                guard id >= 0, id &* kinds < wordRows.count else {
                                    if token.id == Token.boundary {
                                        clause += 1
                                        kind = Self.kind(clauses[clause])
                                    }
                                    previous = -1
                                    continue
                                }
                                add(Int(wordRows[id &* kinds &+ kind]))
                                guard kind == WordKind.plain.rawValue else { continue }
                                if subject { add(Int(subjectRows[id])) }
                                let end = ends[id]
                                if previous >= 0, end & WordPairs.finishes != 0 { add(Int(pairs.row(previous, token.id))) }
                                previous = end & WordPairs.starts != 0 ? token.id : -1
                            }
                        }
                    }
                }
            }
        }
    }

    /// The kind of a clause with these flags (`WordKind` raw value).
    @inline(__always) private static func kind(_ flags: UInt8) -> Int {
        flags & PhraseIndex.contraryClause != 0 ? WordKind.denying.rawValue : WordKind.plain.rawValue
    }

    /// The pairs of two words in a row in the clauses of `inputs` that do not deny (both words among this
    /// classifier's words), named as the fit names them ("log in"), each once, in order of first use.
    public func pairNames(in inputs: [ClassifierInput]) -> [String] {
        var names = [String]()
        var seen = Set<UInt64>()
        var wordName = [Int32: String]()
        for (row, id) in wordOfRow.enumerated() where id >= 0 && wordFeatures[row].hasPrefix(Self.wordPrefix) { wordName[id] = words[row] }
        for input in inputs {
            for text in [input.subject, input.description ?? ""] where !text.isEmpty {
                let tokens = normalizer.tokens(text)
                let clauses = index.scan(tokens).clauses
                var clause = 0
                var previous: Int32 = -1
                for token in tokens {
                    if token.id == Token.boundary { clause += 1 }
                    let plain = Self.kind(clauses[clause]) == WordKind.plain.rawValue
                    guard token.id >= 0, plain, let name = wordName[token.id] else {
                        previous = -1
                        continue
                    }
                    if previous >= 0, seen.insert(WordPairs.key(previous, token.id)).inserted {
                        names.append(wordName[previous]! + " " + name)
                    }
                    previous = token.id
                }
            }
        }
        return names
    }

    public func evidence(_ input: ClassifierInput) -> Evidence {
        let signalCount = rules.signals.count
        // Per signal: found in text; per feature: active.
        var inText = [Bool](repeating: false, count: signalCount)
        var inSubject = [Bool](repeating: false, count: signalCount)
        var active = [Bool](repeating: false, count: features.count)
        // Signals found so far: index, where ("impact.serviceDown", "subject: \"…\""), and
        // whether from the impact fields.
        var signals = structuredSignals(input.impact)
        signals.reserveCapacity(signals.count + 8)
        // The model's words found, as rows, and a bit per row.
        var wordRowsFound = [Int]()
        wordRowsFound.reserveCapacity(min(words.count, 256))
        var wordSeen = [UInt64](repeating: 0, count: (words.count + 63) / 64)
        for signal in signals { active[structuredOffset + signal.structured] = true }
        var docsTerm: String?, docsProblem: String?
        func add(_ number: Int, _ place: Int, _ quoted: String) {
            inText[number] = true
            if place == 0 { inSubject[number] = true }
            let place = place == 0 ? "subject" : "description"
            // subject: "quoted words", in one allocation.
            var foundIn = ""
            foundIn.reserveCapacity(place.utf8.count + quoted.utf8.count + 4)
            foundIn += place
            foundIn += ": \""
            foundIn += quoted
            foundIn += "\""
            signals.append(FoundSignal(signal: number, foundIn: foundIn, structured: -1))
        }
        for place in 0..<2 {
            let text = place == 0 ? input.subject : input.description ?? ""
            guard !text.isEmpty else { continue }
            let tokens = normalizer.tokens(text)
            var (found, sides, clauses) = index.scan(tokens)
            // A clause that denies or plays down ("nothing is down", "everyone can log in", "fine
            // now") counts through its signals and its words as "deny." features, all kept from
            // raising the severity. Other clauses count every word as "word." features and every
            // two words in a row as "pair." features.
            if !wordWeights.isEmpty {
                words(of: tokens, clauses: clauses, subject: place == 0, seen: &wordSeen, into: &wordRowsFound)
            }
            let reading = quantities.read(tokens)
            if !majoritySides.isEmpty, !reading.majorities.isEmpty {
                for majority in reading.majorities {
                    let clause = tokens[..<majority.first].reduce(0) { $0 + ($1.id == Token.boundary ? 1 : 0) }
                    let match = PhraseIndex.Match(first: majority.first, last: majority.last, clause: clause)
                    for side in majoritySides { sides[side].append(match) }
                }
            }
            func quote(_ first: Int, _ last: Int) -> String {
                let utf8 = text.utf8
                let from = utf8.index(utf8.startIndex, offsetBy: Int(tokens[first].start))
                let to = utf8.index(utf8.startIndex, offsetBy: Int(tokens[last].end))
                return String(decoding: utf8[from..<to], as: UTF8.self)
            }
            for number in 0..<signalCount where !inText[number] {
                guard let match = found[number] else { continue }
                add(number, place, quote(match.first, match.last))
            }
            for (number, pair) in pairs where !inText[number] {
                guard let span = PhraseIndex.together(pair, in: sides) else { continue }
                add(number, place, quote(span.first, span.last))
            }
            if let reading = reading.broadest, !inText[scopeSignals[2 - reading.scope.rawValue]] {
                add(scopeSignals[2 - reading.scope.rawValue], place, quote(reading.first, reading.last))
            }
            if docsTerm == nil, let match = found[docsSubjectGroup] { docsTerm = quote(match.first, match.last) }
            if docsProblem == nil, let match = found[docsProblemGroup] { docsProblem = quote(match.first, match.last) }
        }
        // "Was down yesterday, fine now": what is over no longer counts.
        for number in 0..<signalCount where inText[number] && !cancelled[number].isEmpty {
            for other in cancelled[number] where inText[other] {
                inText[other] = false
                signals.removeAll { $0.signal == other && $0.structured < 0 }
            }
        }
        var found = inText
        for signal in signals where signal.structured >= 0 { found[signal.signal] = true }
        for number in 0..<signalCount where inText[number] {
            active[number] = true
            if inSubject[number] { active[subjectOffset + number] = true }
        }
        let combination = combination(found)
        if let combination { active[combinationOffset + combination] = true }
        for (side, critical) in temperedCritical.enumerated() {
            guard critical < 0 ? combination == Self.majorityUnavailableCombination : inText[critical] else { continue }
            for (offset, tempering) in temperedTempering.enumerated() where inText[tempering] {
                active[temperedOffset + side * temperedTempering.count + offset] = true
            }
        }
        if docsTerm != nil { active[combinationOffset + Self.combinations.count + (docsProblem != nil ? 0 : 1)] = true }
        if let category = input.category { active[categoryOffset + TicketCategory.allCases.firstIndex(of: category)!] = true }
        if input.namesDedicatedContact { active[dedicatedContactOffset] = true }
        // By severity, then name, then where. (Closures read a local copy: capturing `self`
        // would copy the whole classifier.)
        let signalRules = signalRules
        signals.sort {
            let (a, b) = (signalRules[$0.signal], signalRules[$1.signal])
            return (a.severity.level, a.nameRank) < (b.severity.level, b.nameRank)
                || (a.severity.level, a.nameRank) == (b.severity.level, b.nameRank) && $0.foundIn < $1.foundIn
        }
        return Evidence(signals: signals.map {
            let rule = signalRules[$0.signal]
            return ClassificationSignal(signal: rule.name, criterion: rule.criterion, severity: rule.severity, foundIn: $0.foundIn)
        }, active: activeIndices(active), words: wordRowsFound,
                        docsTerm: docsTerm, docsProblem: docsProblem)
    }

    public func classify(_ input: ClassifierInput) -> Classification {
        let evidence = evidence(input)
        var scores = model.bias
        Self.add(rows: evidence.active, of: featureWeights, to: &scores)
        Self.add(rows: evidence.words, of: wordWeights, to: &scores)
        // The reporter's view is a vote, but a lower one never talks the evidence out of critical:
        // then the evidence's own probabilities stand.
        var probabilities = ClassifierModel.probabilities(scores: scores)
        if input.reportedSeverity != nil, model.decide(probabilities) != .critical {
            ClassifierModel.add(vote: model.reporterVote, for: input.reportedSeverity, to: &scores)
            probabilities = ClassifierModel.probabilities(scores: scores)
        }
        var label = model.decide(probabilities)
        // With too little to read (`readsTooLittle`), the reporter's view decides: the reported
        // severity (minor without one), or the documentation channel for a ticket filed as
        // documentation. If such a ticket also has minor evidence or words of clauses that deny
        // ("fine now", "everyone can log in"), its verdict is never more urgent than that view:
        // so a clause that denies never raises one.
        let fallback: ClassifierModel.Label = input.category == .documentation ? .docs
            : input.reportedSeverity.map(ClassifierModel.Label.init(severity:)) ?? .minor
        var reporterDecides = false
        if readsTooLittle(evidence) {
            let denyingRow = denyingRow
            if fallback == .docs || (evidence.signals.isEmpty && !evidence.words.contains(where: { denyingRow[$0] })) {
                reporterDecides = true
                label = fallback
            } else if label != .docs, label.rawValue < fallback.rawValue {
                label = fallback
            }
        }
        // The text states all three of the policy's critical criteria ("nobody can log in, no
        // workaround"): critical, whatever else it says. So stating them never lowers a verdict,
        // even one the reporter's severity decided.
        if !statedCritical.isEmpty, statedCritical.allSatisfy(evidence.active.contains) { label = .critical }
        let severity = label.severity
        let route: Classification.Route = label == .docs ? .docs : .support
        var docsReason: String?
        if route == .docs {
            if let term = evidence.docsTerm, let problem = evidence.docsProblem {
                docsReason = "reports a documentation mistake (\"\(term)\", \"\(problem)\")"
            } else if input.category == .documentation {
                docsReason = "category is documentation"
            } else {
                docsReason = "reads as documentation feedback\(evidence.docsTerm.map { " (\"\($0)\")" } ?? ""), with no service impact"
            }
        }
        var supportReason: String?
        if input.category == .documentation, route == .support {
            let impact = evidence.signals.filter { $0.severity != .minor }.map(\.signal)
            supportReason = impact.isEmpty
                ? "filed as documentation, but it reads as a support request"
                : "filed as documentation, but it reports service impact (\(Array(Set(impact)).sorted().joined(separator: ", "))): a support ticket"
        }
        let confidence = reporterDecides ? 0.2 : (probabilities[label.rawValue] * 100).rounded() / 100
        // A word weighs for the verdict by how much more it gives its class than the others on
        // average (worked out here, for the few rows a ticket has: a table of it would double
        // the memory each row touches).
        var strongest = [(row: Int, lean: Double)]()
        strongest.reserveCapacity(6)
        let wordOfRow = wordOfRow
        if !reporterDecides {
            for row in evidence.words {
                let base = row * 4
                let own = wordWeights[base + label.rawValue]
                let others = wordWeights[base] + wordWeights[base + 1] + wordWeights[base + 2] + wordWeights[base + 3] - own
                // Most rows lean less than the threshold or than the five kept: a multiplication
                // (within 1e-12 of the division: weights are at most 1000) rules them out before
                // the exact division.
                let estimate = own - others * (1.0 / 3)
                guard estimate >= 0.0499, strongest.count < 5 || estimate > strongest[4].lean - 1e-9 else { continue }
                let lean = own - others / 3
                guard lean >= 0.05 else { continue }
                // A word read in several kinds ("word.", "deny.", "subject.word.") is named once, by its stronger row.
                if let twin = strongest.firstIndex(where: { wordOfRow[$0.row] == wordOfRow[row] }) {
                    guard strongest[twin].lean < lean else { continue }
                    strongest.remove(at: twin)
                }
                // Kept sorted, strongest first (ties: the earlier row), at most five.
                var at = strongest.count
                while at > 0, (strongest[at - 1].lean, row) < (lean, strongest[at - 1].row) { at -= 1 }
                guard at < 5 else { continue }
                strongest.insert((row, lean), at: at)
                if strongest.count > 5 { strongest.removeLast() }
            }
        }
        let words = strongest.map { self.words[$0.row] }
        return Classification(
            route: route, severity: severity, signals: evidence.signals, confidence: confidence,
            reportedSeverity: input.reportedSeverity,
            disagreesWithReporter: route == .support && input.reportedSeverity.map { $0 != severity } ?? false,
            needsDedicatedContact: route == .support && severity == .critical && !input.namesDedicatedContact,
            docsReason: docsReason, supportReason: supportReason,
            probabilities: probabilityNames(probabilities), words: Array(words))
    }

    /// Whether a ticket gives too little to read for the model to outrank the reporter: no
    /// criterion above minor, no documentation words, and fewer than `wordsToRead` different
    /// words of ordinary clauses (the words of clauses that deny only ever lower). `evidence`
    /// must be this classifier's.
    public func readsTooLittle(_ evidence: Evidence) -> Bool {
        guard evidence.docsTerm == nil, evidence.signals.allSatisfy({ $0.severity == .minor }) else { return false }
        var count = 0
        for row in evidence.words where plainWordRow[row] {
            count += 1
            if count == Self.wordsToRead { return false }
        }
        return true
    }

    /// Adds each row's four weights (critical, major, minor, docs) of a flat table to `scores`.
    private static func add(rows: [Int], of weights: [Double], to scores: inout [Double]) {
        // Four sums in registers, each added to in row order (the same sums as one at a time).
        var (critical, major, minor, docs) = (scores[0], scores[1], scores[2], scores[3])
        weights.withUnsafeBufferPointer { weights in
            for row in rows {
                let base = row &* 4
                critical += weights[base]
                major += weights[base &+ 1]
                minor += weights[base &+ 2]
                docs += weights[base &+ 3]
            }
        }
        (scores[0], scores[1], scores[2], scores[3]) = (critical, major, minor, docs)
    }

    /// The indices of the features set, ascending (in one allocation).
    private func activeIndices(_ active: [Bool]) -> [Int] {
        var indices = [Int]()
        indices.reserveCapacity(active.count)
        for index in active.indices where active[index] { indices.append(index) }
        return indices
    }

    /// Each class's probability by name, to three decimals.
    private func probabilityNames(_ probabilities: [Double]) -> [String: Double] {
        var named = [String: Double](minimumCapacity: ClassifierModel.Label.allCases.count)
        for label in ClassifierModel.Label.allCases { named[label.name] = (probabilities[label.rawValue] * 1000).rounded() / 1000 }
        return named
    }

    /// A signal found: its index, where it was found, and its index among the impact signals
    /// (-1 for one found in text).
    private struct FoundSignal {
        var signal: Int
        var foundIn: String
        var structured: Int
    }

    private func structuredSignals(_ impact: Impact?) -> [FoundSignal] {
        guard let impact else { return [] }
        var found = [FoundSignal]()
        let rows = structuredRows
        func add(_ name: String, _ field: String) {
            let structured = Self.structuredNumbers[name]!
            found.append(FoundSignal(signal: rows[structured], foundIn: field, structured: structured))
        }
        if impact.serviceDown == true { add("serviceDown", "impact.serviceDown") }
        switch impact.usersAffected {
        case .all?, .majority?: add("majorityUsers", "impact.usersAffected")
        case .multiple?: add("multipleUsers", "impact.usersAffected")
        case .few?, .one?: add("fewUsers", "impact.usersAffected")
        case nil: break
        }
        switch impact.workaround {
        case .none?: add("noWorkaround", "impact.workaround")
        case .temporary?: add("temporaryWorkaround", "impact.workaround")
        case .longTerm?, .notScalable?: add("longTermWorkaround", "impact.workaround")
        case nil: break
        }
        switch impact.installations {
        case .halted?: add("installationsHalted", "impact.installations")
        case .impaired?: add("installationsImpaired", "impact.installations")
        case .unaffected?, nil: break
        }
        if impact.cosmetic == true { add("cosmetic", "impact.cosmetic") }
        return found
    }
}
