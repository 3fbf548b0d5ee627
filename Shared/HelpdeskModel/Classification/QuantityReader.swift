/// Reads how many are affected from numbers in a text: "3 of 900 users", "1 in 10 orders"
/// (a share), "40%", "all 12 clinics", "two people in accounting", "two stores" (a count). A
/// share of half or more is a majority; a tenth or more, ten or more people, three or more
/// people, or any number of sites or teams is several; fewer is few. A total ("of our 900
/// users", "we have 40 stores") is not a count of the affected.
struct QuantityReader: Sendable {
    enum Scope: Int, Sendable, Comparable {
        case few, multiple, majority
        static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
    }

    struct Reading: Sendable, Equatable {
        let scope: Scope
        /// Token range of the words read.
        let first: Int
        let last: Int
    }

    private let of: Int32
    private let inWord: Int32
    private let can: Int32
    private let out: Int32
    private let percent: Int32
    /// "two thirds", "three quarters" (shares); "half" (several, not a majority).
    private let third: Int32
    private let quarter: Int32
    private let half: Int32
    private let all: WordSet
    /// Words after which a number is a total, not the affected ("our", "have", "total").
    private let totals: WordSet
    /// Words between "of" and a total ("our", "the", "about").
    private let fillers: WordSet
    private let nouns: WordSet
    /// Nouns for a part of an organization (roles, kinds of device): "all drivers" is several.
    private let parts: WordSet
    private let groups: WordSet
    /// Units of time: "every 20 minutes" counts no one.
    private let times: WordSet
    /// Words between a count and a unit of time that make it a rate ("per", "a"): "600 requests
    /// per minute" is traffic, not the affected.
    private let rates: WordSet
    /// A number word's value by id (NaN for other words).
    private let numberWords: [Double]
    private let negations: WordSet
    /// Words a reading can start at ("all", "half", number words); digits start one too.
    private let starts: WordSet

    static let numberWordValues: [(String, Double)] = [
        ("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5), ("six", 6), ("seven", 7), ("eight", 8), ("nine", 9),
        ("ten", 10), ("eleven", 11), ("twelve", 12), ("fifteen", 15), ("twenty", 20), ("thirty", 30), ("forty", 40),
        ("fifty", 50), ("hundred", 100), ("hundreds", 100), ("thousand", 1000), ("dozen", 12), ("dozens", 24),
    ]

    init(nouns: [String], groups: [String], totals: [String], fillers: [String], all: [String], parts: [String],
         times: [String], negations: [String], normalizer: inout TextNormalizer) {
        func ids(_ words: [String]) -> [Int32] { words.flatMap { normalizer.internPhrase($0) } }
        of = normalizer.internPhrase("of").first!
        inWord = normalizer.internPhrase("in").first!
        can = normalizer.internPhrase("can").first!
        out = normalizer.internPhrase("out").first!
        percent = normalizer.internPhrase("percent").first!
        third = normalizer.internPhrase("thirds").first!
        quarter = normalizer.internPhrase("quarters").first!
        half = normalizer.internPhrase("half").first!
        let sets = [all, totals, fillers, nouns + parts, groups, negations, parts, times].map(ids)
        var numberIDs = [(Int32, Double)]()
        for (word, value) in Self.numberWordValues {
            if let id = normalizer.internPhrase(word).first { numberIDs.append((id, value)) }
        }
        let rateIDs = ["per", "a", "an", "each"].flatMap { normalizer.internPhrase($0) }
        let size = normalizer.vocabularySize
        rates = WordSet(rateIDs, size)
        (self.all, self.totals, self.fillers) = (WordSet(sets[0], size), WordSet(sets[1], size), WordSet(sets[2], size))
        (self.nouns, self.groups, self.negations) = (WordSet(sets[3], size), WordSet(sets[4], size), WordSet(sets[5], size))
        (self.parts, self.times) = (WordSet(sets[6], size), WordSet(sets[7], size))
        var numberWords = [Double](repeating: .nan, count: size)
        for (id, value) in numberIDs { numberWords[Int(id)] = value }
        self.numberWords = numberWords
        starts = WordSet(sets[0] + [half] + numberIDs.map(\.0), size)
        normalizer.rebuild()
    }

    @inline(__always) private func value(_ token: Token) -> Double? {
        if !token.value.isNaN { return token.value }
        guard token.id >= 0, Int(token.id) < numberWords.count else { return nil }
        let value = numberWords[Int(token.id)]
        return value.isNaN ? nil : value
    }

    /// The broadest scope the numbers in the tokens state, with where, and every place that
    /// states a majority.
    func read(_ tokens: [Token]) -> (broadest: Reading?, majorities: [Reading]) {
        var best: Reading?
        var majorities = [Reading]()
        func offer(_ scope: Scope, _ first: Int, _ last: Int) {
            let reading = Reading(scope: scope, first: first, last: last)
            if scope == .majority { majorities.append(reading) }
            if best == nil || scope > best!.scope { best = reading }
        }
        var index = -1
        while true {
            // Most words start no reading: a tight loop skips them.
            index = tokens.withUnsafeBufferPointer { starts.nextNumberOrMember(in: $0, from: index + 1) }
            guard index < tokens.count else { break }
            // all (our) users, every store, the entire team
            if all.contains(tokens[index].id), index == 0 || !negations.contains(tokens[index - 1].id) {
                var noun = index + 1
                while noun < tokens.count, noun <= index + 3, tokens[noun].id != Token.boundary, value(tokens[noun]) == nil {
                    if counted(tokens[noun].id) {
                        // "all users can sign in" says what works; "all drivers" are a part of the whole.
                        if noun + 1 >= tokens.count || tokens[noun + 1].id != can {
                            offer(parts.contains(tokens[noun].id) ? .multiple : .majority, index, noun)
                        }
                        break
                    }
                    noun += 1
                }
            }
            // Half of them: several, not a majority.
            if tokens[index].id == half, index == 0 || !negations.contains(tokens[index - 1].id) { offer(.multiple, index, index) }
            // "0 users", "0%": nobody affected is no evidence of scope.
            guard let amount = value(tokens[index]), amount > 0 else { continue }
            if index > 0, negations.contains(tokens[index - 1].id) { continue }
            // "every 20 minutes", "30-60 seconds", "a 2 minute delay": time, not people.
            if timeFollows(index, in: tokens, between: { value($0) != nil }) { continue }
            // N % (of …), two thirds, three quarters
            if index + 1 < tokens.count {
                let next = tokens[index + 1].id
                let whole = next == percent ? 100.0 : next == third ? 3 : next == quarter ? 4 : 0
                if whole > 0 {
                    offer(Self.share(amount / whole, affected: whole == 100 ? amount : 0), index, index + 1)
                    continue
                }
            }
            // N (out) of (our|the|about …) M, N in M
            var next = index + 1
            if next < tokens.count, tokens[next].id == out { next += 1 }
            if next < tokens.count, tokens[next].id == of || (tokens[next].id == inWord && next + 1 < tokens.count
                                                              && value(tokens[next + 1]) != nil) {
                var total = next + 1
                while total < tokens.count, total <= next + 3, fillers.contains(tokens[total].id) || totals.contains(tokens[total].id) {
                    total += 1
                }
                if total < tokens.count, let whole = value(tokens[total]), whole > 0, amount <= whole {
                    let unit = total + 1 < tokens.count && counted(tokens[total + 1].id)
                    offer(Self.share(amount / whole, affected: amount), index, total + (unit ? 1 : 0))
                    continue
                }
            }
            let before = index > 0 ? tokens[index - 1].id : Token.boundary
            // all N (stores); all 22 officers are a part of the whole
            if all.contains(before) {
                var part = index + 1
                while part < tokens.count, part <= index + 3, !parts.contains(tokens[part].id) { part += 1 }
                if part < tokens.count, part <= index + 3 {
                    offer(amount >= 3 ? .multiple : .few, index - 1, part)
                } else {
                    offer(.majority, index - 1, index)
                }
                continue
            }
            // A total: "of our 900 users", "we have 40 stores".
            if totals.contains(before) || before == of { continue }
            // A name, unless what it counts follows ("store 12 staff"): "till 4" is one till (few),
            // "store 12" one store (several, as any number of sites is).
            if counted(before), index + 1 >= tokens.count || !counted(tokens[index + 1].id) {
                offer(groups.contains(before) ? .multiple : .few, index - 1, index)
                continue
            }
            // N (adjective) (adjective) users; N stores
            var noun = index + 1
            while noun < tokens.count, noun <= index + 3 {
                if nouns.contains(tokens[noun].id) {
                    // "600 requests per minute", "8,000 logins/day" (a slash reads as nothing): a rate.
                    if !timeFollows(noun, in: tokens, between: { rates.contains($0.id) }) {
                        offer(amount >= 3 ? .multiple : .few, index, noun)
                    }
                    break
                }
                if groups.contains(tokens[noun].id) {
                    offer(.multiple, index, noun)
                    break
                }
                if tokens[noun].id == Token.boundary || !tokens[noun].value.isNaN { break }
                noun += 1
            }
        }
        return (best, majorities)
    }

    /// Whether a word names what a number counts: a person or device (`nouns`, `parts`) or a group.
    @inline(__always) private func counted(_ id: Int32) -> Bool { nouns.contains(id) || groups.contains(id) }

    /// Whether a unit of time follows the token at `position`, next to it or after one token that
    /// `between` accepts: a number after a number ("30-60 seconds"), a rate word after a counted
    /// noun ("2 requests a second").
    @inline(__always)
    private func timeFollows(_ position: Int, in tokens: [Token], between: (Token) -> Bool) -> Bool {
        var unit = position + 1
        if unit < tokens.count, between(tokens[unit]) { unit += 1 }
        return unit < tokens.count && times.contains(tokens[unit].id)
    }

    static func share(_ fraction: Double, affected: Double) -> Scope {
        if fraction >= 0.5 { return .majority }
        if fraction >= 0.1 || affected >= 10 { return .multiple }
        return .few
    }
}

/// Word ids as flags: a membership test per word of every ticket, without hashing.
struct WordSet: Sendable {
    private let flags: [Bool]

    init(_ ids: [Int32], _ size: Int) {
        var flags = [Bool](repeating: false, count: size)
        for id in ids where id >= 0 { flags[Int(id)] = true }
        self.flags = flags
    }

    @inline(__always) func contains(_ id: Int32) -> Bool { id >= 0 && Int(id) < flags.count && flags[Int(id)] }

    /// The position of the first token from `start` on that is a number or one of the set's
    /// words (`tokens.count` if none).
    @inline(__always) func nextNumberOrMember(in tokens: UnsafeBufferPointer<Token>, from start: Int) -> Int {
        flags.withUnsafeBufferPointer { flags in
            var index = start
            while index < tokens.count {
                let token = tokens[index]
                if !token.value.isNaN || (token.id >= 0 && Int(token.id) < flags.count && flags[Int(token.id)]) { return index }
                index += 1
            }
            return index
        }
    }
}
