/// Finds which of many phrase groups occur in a tokenized text, in one pass over its tokens.
///
/// A phrase does not count when a negation ("not", "no", "never", and every word the rules
/// rewrite to them: "isn't", "doesn't", "won't" …) stands within four words before it in the
/// same clause: "not down", "no outage", "isn't unavailable", but "the API is not responding,
/// and nobody can log in" keeps "nobody can log in" (the comma and "and" end the negation's
/// reach). Nor does a phrase count inside a longer phrase its group excepts ("broken link" is
/// not a broken service).
struct PhraseIndex: Sendable {
    struct Match: Sendable, Equatable {
        /// Token range of the match.
        let first: Int
        let last: Int
        /// Which clause of the text it is in.
        var clause: Int = 0
    }

    /// Two groups whose phrases count together when both occur in one clause, close enough.
    struct Pair: Sendable {
        let first: Int
        let second: Int
    }

    static let pairReach = 8

    private struct Phrase: Sendable {
        let group: Int
        let number: Int
        let tokens: [Int32]
    }

    /// Phrases sorted by their first token; those starting with token t are
    /// `entries[firstPhrase[t]..<firstPhrase[t + 1]]`, plain values (group, tokens at
    /// `pool[offset..<offset + count]`): one flat table, no reference counting per word.
    private let firstPhrase: [Int32]
    private struct Entry: Sendable {
        let group: Int32
        let offset: Int32
        let count: Int32
    }
    private let entries: [Entry]
    private let pool: [Int32]
    /// Excepted phrases by group.
    private let excepted: [[[Int32]]]
    private let isNegation: [Bool]
    private let endsNegation: [Bool]
    private let groupCount: Int
    /// Groups whose phrases say what works or what is minor ("still works", "fine now").
    private let isContrary: [Bool]
    /// Groups whose phrases state critical evidence ("nobody can log in").
    private let isAffirming: [Bool]
    /// What `scan` says of a clause, as flags.
    static let contraryClause: UInt8 = 1
    static let affirmingClause: UInt8 = 2
    /// Groups whose every occurrence is kept (the sides of pairs), from this index on.
    private let firstSideGroup: Int
    static let negationReach = 4

    /// `groups[g]` are the phrases of group g; `except[g]` the longer phrases in which they do
    /// not count. Interns every word in `normalizer` (rebuilt before returning).
    /// `sides` are further groups whose every occurrence `scan` reports, for pairs.
    init(groups: [[String]], except: [[String]], sides: [[String]] = [], contrary: Set<Int> = [], affirming: Set<Int> = [],
         negations: [String], scopeBreaks: [String], normalizer: inout TextNormalizer) {
        var phrases = [Phrase]()
        for (group, list) in (groups + sides).enumerated() {
            for (number, text) in list.enumerated() {
                let tokens = normalizer.internPhrase(text)
                if !tokens.isEmpty { phrases.append(Phrase(group: group, number: number, tokens: tokens)) }
            }
        }
        let exceptTokens = except.map { $0.map { normalizer.internPhrase($0) } }
        // One word each (after synonyms: "in case" may be written as "if").
        let negationIDs = negations.map { normalizer.internPhrase($0) }.compactMap { $0.count == 1 ? $0[0] : nil }
        let breakIDs = scopeBreaks.map { normalizer.internPhrase($0) }.compactMap { $0.count == 1 ? $0[0] : nil }
        normalizer.rebuild()
        let sorted = phrases.filter { $0.tokens[0] >= 0 }.sorted { ($0.tokens[0], $0.group, $0.number) < ($1.tokens[0], $1.group, $1.number) }
        var firstPhrase = [Int32](repeating: 0, count: normalizer.vocabularySize + 1)
        for phrase in sorted { firstPhrase[Int(phrase.tokens[0]) + 1] += 1 }
        for id in 0..<normalizer.vocabularySize { firstPhrase[id + 1] += firstPhrase[id] }
        var isNegation = Array(repeating: false, count: normalizer.vocabularySize)
        for id in negationIDs { isNegation[Int(id)] = true }
        var endsNegation = Array(repeating: false, count: normalizer.vocabularySize)
        for id in breakIDs { endsNegation[Int(id)] = true }
        self.firstPhrase = firstPhrase
        var pool = [Int32](), entries = [Entry]()
        for phrase in sorted {
            entries.append(Entry(group: Int32(phrase.group), offset: Int32(pool.count), count: Int32(phrase.tokens.count)))
            pool += phrase.tokens
        }
        self.pool = pool
        self.entries = entries
        self.excepted = exceptTokens + Array(repeating: [], count: max(0, groups.count - exceptTokens.count))
        self.isNegation = isNegation
        self.endsNegation = endsNegation
        self.groupCount = groups.count + sides.count
        self.isContrary = (0..<(groups.count + sides.count)).map(contrary.contains)
        self.isAffirming = (0..<(groups.count + sides.count)).map(affirming.contains)
        self.firstSideGroup = groups.count
    }

    /// For each group, its first phrase found in the tokens (nil if none); for each side group,
    /// every occurrence; and per clause, flags: `contraryClause` when it denies critical evidence
    /// (a negated or excepted phrase of an `affirming` group: "nothing is down", "everyone can")
    /// or plays it down (a phrase of a `contrary` group: "still works"), `affirmingClause` when it
    /// states critical evidence (a phrase of an `affirming` group).
    func scan(_ tokens: [Token]) -> (first: [Match?], sides: [[Match]], clauses: [UInt8]) {
        var found = [Match?](repeating: nil, count: firstSideGroup)
        var sides = [[Match]](repeating: [], count: groupCount - firstSideGroup)
        var clauses: [UInt8] = [0]
        var clause = 0
        // A negation earlier in the clause: a phrase found before may be denied here.
        var negationInClause = false
        for start in tokens.indices {
            let id = tokens[start].id
            if id == Token.boundary {
                clause += 1
                clauses.append(0)
                negationInClause = false
            }
            guard id >= 0 else { continue }
            if Int(id) < isNegation.count, isNegation[Int(id)] { negationInClause = true }
            guard Int(id) + 1 < firstPhrase.count else { continue }
            let (from, to) = (Int(firstPhrase[Int(id)]), Int(firstPhrase[Int(id) + 1]))
            guard from < to else { continue }
            for candidate in from..<to {
                let entry = entries[candidate]
                let group = Int(entry.group), count = Int(entry.count)
                let isSide = group >= firstSideGroup
                // A group already found is read again only where it can mark the clause.
                guard start + count <= tokens.count,
                      isSide || found[group] == nil
                          || (clauses[clause] & Self.contraryClause == 0
                              && (isContrary[group] || isAffirming[group]
                                  && (clauses[clause] & Self.affirmingClause == 0 || negationInClause || !excepted[group].isEmpty))) else {
                    continue
                }
                var matches = true
                var offset = 1
                while offset < count {
                    if tokens[start + offset].id != pool[Int(entry.offset) + offset] {
                        matches = false
                        break
                    }
                    offset += 1
                }
                guard matches else { continue }
                let isExcepted = !isSide && !excepted[group].isEmpty && excepted[group].contains(where: { covers($0, tokens, start, count) })
                let isNegated = negated(tokens, before: start)
                if isAffirming[group] {
                    clauses[clause] |= isExcepted || isNegated ? Self.contraryClause : Self.affirmingClause
                } else if isContrary[group], !isExcepted, !isNegated {
                    clauses[clause] |= Self.contraryClause
                }
                guard isSide || found[group] == nil, !isExcepted, !isNegated else { continue }
                let match = Match(first: start, last: start + count - 1, clause: clause)
                if isSide { sides[group - firstSideGroup].append(match) } else { found[group] = match }
            }
        }
        return (found, sides, clauses)
    }

    /// The first place both sides of `pair` occur in one clause, within `pairReach` words.
    static func together(_ pair: Pair, in sides: [[Match]]) -> (first: Int, last: Int)? {
        for a in sides[pair.first] {
            for b in sides[pair.second] where a.clause == b.clause && abs(a.first - b.first) <= pairReach && a.first != b.first {
                return (min(a.first, b.first), max(a.last, b.last))
            }
        }
        return nil
    }

    private func occurs(_ phrase: [Int32], in tokens: [Token], at start: Int) -> Bool {
        guard start + phrase.count <= tokens.count else { return false }
        for offset in 1..<max(1, phrase.count) where tokens[start + offset].id != phrase[offset] { return false }
        return true
    }

    /// Whether a negation stands within reach before `start`, in the same clause.
    func negated(_ tokens: [Token], before start: Int) -> Bool {
        var index = start - 1
        while index >= 0, index >= start - Self.negationReach {
            let id = tokens[index].id
            if id == Token.boundary { return false }
            if id >= 0, Int(id) < isNegation.count {
                if endsNegation[Int(id)] { return false }
                if isNegation[Int(id)] { return true }
            }
            index -= 1
        }
        return false
    }

    /// Whether an occurrence of `outer` spans the match at [start, start + length).
    private func covers(_ outer: [Int32], _ tokens: [Token], _ start: Int, _ length: Int) -> Bool {
        let earliest = max(0, start + length - outer.count)
        let latest = min(start, tokens.count - outer.count)
        guard earliest <= latest else { return false }
        for begin in earliest...latest where tokens[begin].id == outer[0] && occurs(outer, in: tokens, at: begin) { return true }
        return false
    }
}
