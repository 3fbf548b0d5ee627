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

    /// Phrases sorted by their tokens, as a dictionary is: those starting with token t are
    /// `entries[firstPhrase[t]..<firstPhrase[t + 1]]`, and within them those whose next token is
    /// u a run found by binary search, so a text is walked like a trie. Plain values (group,
    /// tokens at `pool[offset..<offset + count]`, and `rank`: the order in which phrases found at
    /// one place are read, by group): one flat table, no reference counting per word.
    private let firstPhrase: [Int32]
    private struct Entry: Sendable {
        let group: Int32
        let offset: Int32
        let count: Int32
        let rank: Int32
    }
    private let entries: [Entry]
    /// Each entry's second word, or -1 for a phrase of one word.
    private let second: [Int32]
    private let pool: [Int32]
    /// The most phrases that start with one word: room enough for those found at one place.
    private let widest: Int
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
        let ranked = phrases.filter { $0.tokens[0] >= 0 }.sorted { ($0.group, $0.number) < ($1.group, $1.number) }
        let sorted = ranked.indices.sorted {
            ranked[$0].tokens.lexicographicallyPrecedes(ranked[$1].tokens) || ranked[$0].tokens == ranked[$1].tokens && $0 < $1
        }.map { (rank: $0, phrase: ranked[$0]) }
        var firstPhrase = [Int32](repeating: 0, count: normalizer.vocabularySize + 1)
        for (_, phrase) in sorted { firstPhrase[Int(phrase.tokens[0]) + 1] += 1 }
        for id in 0..<normalizer.vocabularySize { firstPhrase[id + 1] += firstPhrase[id] }
        var isNegation = Array(repeating: false, count: normalizer.vocabularySize)
        for id in negationIDs { isNegation[Int(id)] = true }
        var endsNegation = Array(repeating: false, count: normalizer.vocabularySize)
        for id in breakIDs { endsNegation[Int(id)] = true }
        self.firstPhrase = firstPhrase
        widest = max(1, (0..<normalizer.vocabularySize).map { Int(firstPhrase[$0 + 1] - firstPhrase[$0]) }.max() ?? 1)
        var pool = [Int32](), entries = [Entry]()
        for (rank, phrase) in sorted {
            entries.append(Entry(group: Int32(phrase.group), offset: Int32(pool.count), count: Int32(phrase.tokens.count), rank: Int32(rank)))
            pool += phrase.tokens
        }
        self.pool = pool
        self.entries = entries
        second = entries.map { $0.count > 1 ? pool[Int($0.offset) + 1] : -1 }
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
        // A clause per boundary and one more: room for all, trimmed at the end.
        var clauses = [UInt8](repeating: 0, count: tokens.count + 1)
        var clause = 0
        // A negation earlier in the clause: a phrase found before may be denied here.
        var negationInClause = false
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: widest) { matched in
        entries.withUnsafeBufferPointer { entries in
        second.withUnsafeBufferPointer { second in
        pool.withUnsafeBufferPointer { pool in
        tokens.withUnsafeBufferPointer { tokens in
        clauses.withUnsafeMutableBufferPointer { clauses in
        found.withUnsafeMutableBufferPointer { found in
        for start in tokens.indices {
            let id = tokens[start].id
            if id == Token.boundary {
                clause += 1
                negationInClause = false
            }
            guard id >= 0 else { continue }
            // Words interned after the index (the model's) start no phrase.
            guard Int(id) < isNegation.count else { continue }
            if isNegation[Int(id)] { negationInClause = true }
            let count = Self.phrases(at: start, tokens, firstPhrase[Int(id)], firstPhrase[Int(id) + 1], entries, second, pool,
                                     into: matched)
            guard count > 0 else { continue }
            var ranked = UnsafeMutableBufferPointer(rebasing: matched[..<count])
            if count > 1 { ranked.sort { entries[Int($0)].rank < entries[Int($1)].rank } }
            for candidate in ranked {
                let entry = entries[Int(candidate)]
                let group = Int(entry.group), count = Int(entry.count)
                let isSide = group >= firstSideGroup
                // A group already found is read again only where it can mark the clause.
                guard isSide || found[group] == nil
                          || (clauses[clause] & Self.contraryClause == 0
                              && (isContrary[group] || isAffirming[group]
                                  && (clauses[clause] & Self.affirmingClause == 0 || negationInClause || !excepted[group].isEmpty))) else {
                    continue
                }
                let isExcepted = !isSide && !excepted[group].isEmpty && excepted[group].contains(where: { covers($0, tokens, start, count) })
                let isNegated = negated(tokens, before: start)
                if isAffirming[group] {
                    clauses[clause] |= isExcepted || isNegated ? Self.contraryClause : Self.affirmingClause
                } else if isContrary[group], !isExcepted, !isNegated {
                    clauses[clause] |= Self.contraryClause
                }
                guard isSide || found[group] == nil, !isExcepted, !isNegated else { continue }
                let match = Match(first: start, last: start + count - 1, clause: clause)
                if isSide {
                    // Room for several at once: most sides found are found more than once.
                    if sides[group - firstSideGroup].isEmpty { sides[group - firstSideGroup].reserveCapacity(16) }
                    sides[group - firstSideGroup].append(match)
                } else {
                    found[group] = match
                }
            }
        }
        }
        }
        }
        }
        }
        }
        }
        clauses.removeLast(clauses.count - clause - 1)
        return (found, sides, clauses)
    }

    /// The phrases that occur at `start` (entries `from..<to` start with its word), into
    /// `matched`; how many. Walked like a trie: the phrases as long as the words read so far
    /// come first in the range, and the rest narrow, by binary search, to the next word's run.
    /// The second words have a table of their own (`second`, -1 for a phrase of one word): most
    /// places end there, and a search in it reads one or two cache lines.
    @inline(__always)
    private static func phrases(at start: Int, _ tokens: UnsafeBufferPointer<Token>, _ from: Int32, _ to: Int32,
                                _ entries: UnsafeBufferPointer<Entry>, _ second: UnsafeBufferPointer<Int32>,
                                _ pool: UnsafeBufferPointer<Int32>, into matched: UnsafeMutableBufferPointer<Int32>) -> Int {
        var (from, to) = (Int(from), Int(to))
        var count = 0
        while from < to, second[from] < 0 {
            matched[count] = Int32(from)
            count += 1
            from += 1
        }
        guard from < to, start + 1 < tokens.count else { return count }
        let next = tokens[start + 1].id
        guard next >= 0 else { return count }
        (from, to) = run(of: next, from, to) { second[$0] }
        var depth = 2
        while from < to {
            while from < to, Int(entries[from].count) == depth {
                matched[count] = Int32(from)
                count += 1
                from += 1
            }
            guard from < to, start + depth < tokens.count else { break }
            let next = tokens[start + depth].id
            guard next >= 0 else { break }
            (from, to) = run(of: next, from, to) { [depth] in pool[Int(entries[$0].offset) + depth] }
            depth += 1
        }
        return count
    }

    /// The entries of `from..<to` (sorted by `key`) whose key is `value`.
    @inline(__always)
    private static func run(of value: Int32, _ from: Int, _ to: Int, key: (Int) -> Int32) -> (Int, Int) {
        var (low, high) = (from, to)
        while low < high {
            let middle = (low + high) >> 1
            if key(middle) < value { low = middle + 1 } else { high = middle }
        }
        let first = low
        // Most words follow none of the phrases' words: no run, and no second search.
        guard low < to, key(low) == value else { return (first, first) }
        low += 1
        high = to
        while low < high {
            let middle = (low + high) >> 1
            if key(middle) <= value { low = middle + 1 } else { high = middle }
        }
        return (first, low)
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

    private func occurs(_ phrase: [Int32], in tokens: UnsafeBufferPointer<Token>, at start: Int) -> Bool {
        guard start + phrase.count <= tokens.count else { return false }
        for offset in 1..<max(1, phrase.count) where tokens[start + offset].id != phrase[offset] { return false }
        return true
    }

    /// Whether a negation stands within reach before `start`, in the same clause.
    func negated(_ tokens: UnsafeBufferPointer<Token>, before start: Int) -> Bool {
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
    private func covers(_ outer: [Int32], _ tokens: UnsafeBufferPointer<Token>, _ start: Int, _ length: Int) -> Bool {
        let earliest = max(0, start + length - outer.count)
        let latest = min(start, tokens.count - outer.count)
        guard earliest <= latest else { return false }
        for begin in earliest...latest where tokens[begin].id == outer[0] && occurs(outer, in: tokens, at: begin) { return true }
        return false
    }
}
