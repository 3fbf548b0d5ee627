/// Finds which of many phrase groups occur in a text, in one pass over its words.
///
/// Words are compared case-insensitively, without punctuation ("can't" is "cant"), and with
/// a plural's `s`/`es` removed (`users` matches `user`). A phrase preceded within three words
/// by a negation ("not down", "no outage") does not count, nor does one inside a longer
/// phrase its group excepts ("broken link" is not a broken service). Words are hashed, not
/// copied, so a 2 KB description costs a few microseconds.
struct PhraseIndex: Sendable {
    private struct Phrase: Sendable {
        let group: Int
        let number: Int
        let tokens: [Int32]
    }

    private let vocabulary: VocabularyTable
    /// Phrases by their first token.
    private let startingWith: [[Phrase]]
    /// Excepted phrases by group.
    private let excepted: [[[Int32]]]
    private let isNegation: [Bool]
    private let groupCount: Int
    private let negationReach = 3

    /// `groups[g]` are the phrases of group g; `except[g]` the longer phrases in which they do not count.
    init(groups: [[String]], except: [[String]], negations: [String]) {
        var vocabulary = [UInt64: Int32]()
        func ids(_ phrase: String) -> [Int32] {
            Self.wordHashes(phrase).map { hash in
                if let id = vocabulary[hash] { return id }
                let id = Int32(vocabulary.count)
                vocabulary[hash] = id
                return id
            }
        }
        var phrases = [Phrase]()
        for (group, list) in groups.enumerated() {
            for (number, text) in list.enumerated() {
                let tokens = ids(text)
                if !tokens.isEmpty { phrases.append(Phrase(group: group, number: number, tokens: tokens)) }
            }
        }
        let exceptTokens = except.map { $0.map(ids) }
        let negationIDs = negations.map(ids).compactMap { $0.count == 1 ? $0[0] : nil }
        var startingWith = Array(repeating: [Phrase](), count: vocabulary.count)
        for phrase in phrases { startingWith[Int(phrase.tokens[0])].append(phrase) }
        var isNegation = Array(repeating: false, count: vocabulary.count)
        for id in negationIDs { isNegation[Int(id)] = true }
        self.vocabulary = VocabularyTable(vocabulary)
        self.startingWith = startingWith
        self.excepted = exceptTokens + Array(repeating: [], count: max(0, groups.count - exceptTokens.count))
        self.isNegation = isNegation
        self.groupCount = groups.count
    }

    /// For each group, the number of its first phrase found in the text (nil if none).
    func scan(_ text: String) -> [Int?] {
        var tokens = [Int32]()
        var text = text
        text.withUTF8 { bytes in
            tokens.reserveCapacity(bytes.count / 5)
            Self.forEachWord(bytes) { tokens.append(vocabulary[$0]) }
        }
        var found = [Int?](repeating: nil, count: groupCount)
        for start in tokens.indices where tokens[start] >= 0 {
            for phrase in startingWith[Int(tokens[start])] where found[phrase.group] == nil {
                guard occurs(phrase.tokens, in: tokens, at: start), !negated(tokens, before: start),
                    !excepted[phrase.group].contains(where: { covers($0, tokens, start, phrase.tokens.count) })
                else { continue }
                found[phrase.group] = phrase.number
            }
        }
        return found
    }

    private func occurs(_ phrase: [Int32], in tokens: [Int32], at start: Int) -> Bool {
        guard start + phrase.count <= tokens.count else { return false }
        for offset in 1..<max(1, phrase.count) where tokens[start + offset] != phrase[offset] { return false }
        return true
    }

    private func negated(_ tokens: [Int32], before start: Int) -> Bool {
        for index in max(0, start - negationReach)..<start where tokens[index] >= 0 && isNegation[Int(tokens[index])] {
            return true
        }
        return false
    }

    /// Whether an occurrence of `outer` spans the match at [start, start + length).
    private func covers(_ outer: [Int32], _ tokens: [Int32], _ start: Int, _ length: Int) -> Bool {
        let earliest = max(0, start + length - outer.count)
        let latest = min(start, tokens.count - outer.count)
        guard earliest <= latest else { return false }
        for begin in earliest...latest where occurs(outer, in: tokens, at: begin) && tokens[begin] == outer[0] { return true }
        return false
    }

    // MARK: Words

    /// The FNV-1a hash of each word's compared form: lower-cased ASCII, apostrophes dropped,
    /// a plural ending removed.
    static func wordHashes(_ text: String) -> [UInt64] {
        var hashes = [UInt64]()
        var text = text
        text.withUTF8 { forEachWord($0) { hashes.append($0) } }
        return hashes
    }

    @inline(__always)
    private static func forEachWord(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UInt64) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { word in
            var length = 0
            var index = 0
            func finish() {
                if length > 0 { body(stemmedHash(word, length)) }
                length = 0
            }
            while index < bytes.count {
                var byte = bytes[index]
                index += 1
                if byte == 0x27 { continue }  // '
                if byte == 0xE2, index + 1 < bytes.count, bytes[index] == 0x80, bytes[index + 1] == 0x99 {  // ’
                    index += 2
                    continue
                }
                let isWordByte = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                    || byte >= 0x80
                if isWordByte {
                    if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
                    if length < 64 {
                        word[length] = byte
                        length += 1
                    }
                } else {
                    finish()
                }
            }
            finish()
        }
    }

    private static func stemmedHash(_ word: UnsafeMutableBufferPointer<UInt8>, _ length: Int) -> UInt64 {
        var end = length
        var extra: UInt8?
        func endsWith(_ suffix: StaticString) -> Bool {
            let count = suffix.utf8CodeUnitCount
            guard length >= count else { return false }
            return suffix.withUTF8Buffer { s in (0..<count).allSatisfy { word[length - count + $0] == s[$0] } }
        }
        if length > 3 {
            if endsWith("ies") {
                end = length - 3
                extra = 0x79  // y
            } else if endsWith("sses") || endsWith("shes") || endsWith("ches") || endsWith("xes") {
                end = length - 2
            } else if endsWith("s"), !endsWith("ss"), !endsWith("us") {
                end = length - 1
            }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<end { hash = (hash ^ UInt64(word[i])) &* 0x100_0000_01b3 }
        if let extra { hash = (hash ^ UInt64(extra)) &* 0x100_0000_01b3 }
        return hash
    }
}

/// Word hash → token id, open addressing: the classifier looks up every word of every text.
private struct VocabularyTable: Sendable {
    private let keys: [UInt64]
    private let values: [Int32]
    private let mask: Int

    init(_ vocabulary: [UInt64: Int32]) {
        var capacity = 16
        while capacity < vocabulary.count * 4 { capacity <<= 1 }
        var keys = [UInt64](repeating: 0, count: capacity)
        var values = [Int32](repeating: -1, count: capacity)
        for (hash, id) in vocabulary {
            var slot = Int(truncatingIfNeeded: Self.nonZero(hash)) & (capacity - 1)
            while keys[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            keys[slot] = Self.nonZero(hash)
            values[slot] = id
        }
        self.keys = keys
        self.values = values
        mask = capacity - 1
    }

    @inline(__always) private static func nonZero(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }

    /// The id of a word, or -1 when no phrase uses it.
    @inline(__always) subscript(hash: UInt64) -> Int32 {
        let key = Self.nonZero(hash)
        var slot = Int(truncatingIfNeeded: key) & mask
        while true {
            let candidate = keys[slot]
            if candidate == key { return values[slot] }
            if candidate == 0 { return -1 }
            slot = (slot + 1) & mask
        }
    }
}
