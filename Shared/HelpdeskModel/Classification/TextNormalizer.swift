/// One word of a text as the classifier compares it, with where it was in the text.
struct Token: Sendable {
    /// A vocabulary id (≥ 0), or one of the markers below.
    var id: Int32
    /// Byte range in the text, for quoting the words that triggered a signal.
    var start: Int32
    var end: Int32
    /// The value of a number written in digits; NaN for any other token.
    var value: Double

    /// A word no rule uses.
    static let unknown: Int32 = -1
    /// The end of a clause: `. , ; : ! ?`, a bracket, a dash or an ellipsis (not a line break:
    /// whitespace never changes a verdict).
    static let boundary: Int32 = -2
    /// A number written in digits ("3", "2,000", "99.5") that no rule names ("503" is a word of
    /// the lexicon, with its value too).
    static let number: Int32 = -3
}

/// Turns text into tokens: words lower-cased, apostrophes dropped ("can't" is "cant"),
/// inflections removed by a light stemmer ("crashed", "crashes", "crashing" are "crash"), and
/// the rules' synonyms rewritten to one canonical word ("can't", "unable to", "not able to" are
/// "cannot"; "sign in", "log on" are "login"). Phrases and texts go through the same steps, so
/// a phrase matches every inflection and synonym of its words.
///
/// Words are hashed, not copied: a 2 KB description costs a few microseconds.
struct TextNormalizer: Sendable {
    /// A synonym's words after its first (`tails[offset..<offset + count]`) and the word it becomes.
    private struct Rewrite: Sendable {
        let offset: Int32
        let count: Int32
        let canonical: Int32
    }

    private var vocabulary: [UInt64: Int32] = [:]
    private var table = VocabularyTable([:])
    /// Rewrites by their first word, longest first: those of word w are
    /// `rewrites[firstRewrite[w]..<firstRewrite[w + 1]]` (flat tables, read for every word).
    private var firstRewrite: [Int32] = [0]
    private var rewrites: [Rewrite] = []
    private var tails: [Int32] = []
    /// Per word: whether it is the second word of some rewrite. A word that starts many rewrites
    /// ("no": "no one", "no staff can" …) is checked against them only when the next word is one.
    private var isSecondWord: [Bool] = []
    private var rewriteSources: [(words: [UInt64], canonical: UInt64)] = []

    /// `synonyms[canonical]` are the words and phrases (up to four words) written as `canonical`.
    init(synonyms: [(canonical: String, variants: [String])]) {
        for (canonical, variants) in synonyms {
            guard let target = Self.wordHashes(canonical).first else { continue }
            for variant in variants {
                let words = Self.wordHashes(variant)
                if !words.isEmpty, words != [target] { rewriteSources.append((words, target)) }
            }
        }
        for source in rewriteSources {
            _ = intern(source.canonical)
            for word in source.words { _ = intern(word) }
        }
        rebuild()
    }

    /// The id of a word (adding it to the vocabulary); the words of rules are interned before
    /// any text is read.
    mutating func intern(_ hash: UInt64) -> Int32 {
        if let id = vocabulary[hash] { return id }
        let id = Int32(vocabulary.count)
        vocabulary[hash] = id
        return id
    }

    /// The tokens of a rule's phrase, interning its words (call `rebuild()` after the last one).
    mutating func internPhrase(_ phrase: String) -> [Int32] {
        var tokens = Self.wordHashes(phrase).map { Token(id: intern($0), start: 0, end: 0, value: .nan) }
        rewrite(&tokens)
        return tokens.map(\.id)
    }

    /// Makes interned words visible to `tokens(_:)`.
    mutating func rebuild() {
        table = VocabularyTable(vocabulary)
        var byWord = Array(repeating: [(tail: [Int32], canonical: Int32)](), count: vocabulary.count)
        for source in rewriteSources {
            let ids = source.words.map { vocabulary[$0]! }
            byWord[Int(ids[0])].append((Array(ids.dropFirst()), vocabulary[source.canonical]!))
        }
        firstRewrite = [0]
        rewrites = []
        tails = []
        isSecondWord = Array(repeating: false, count: vocabulary.count)
        for list in byWord {
            // Stable: of two as long, the one listed first.
            for (tail, canonical) in list.enumerated().sorted(by: { ($1.element.tail.count, $0.offset) < ($0.element.tail.count, $1.offset) }).map(\.element) {
                if let second = tail.first { isSecondWord[Int(second)] = true }
                rewrites.append(Rewrite(offset: Int32(tails.count), count: Int32(tail.count), canonical: canonical))
                tails += tail
            }
            firstRewrite.append(Int32(rewrites.count))
        }
    }

    var vocabularySize: Int { vocabulary.count }

    /// The text's tokens, synonyms rewritten.
    func tokens(_ text: String) -> [Token] {
        var text = text
        // The first token that may start a synonym: the rewrite pass starts there.
        var firstCandidate = Int.max
        var tokens = text.withUTF8 { bytes in
            // A token takes a byte at least, and boundaries never repeat: room for every one.
            [Token](unsafeUninitializedCapacity: max(1, bytes.count)) { buffer, initialized in
                var count = 0
                firstRewrite.withUnsafeBufferPointer { firstRewrite in
                    Self.forEachWord(bytes) { hash, start, end, value in
                        if hash == Self.boundaryHash {
                            if count == 0 || buffer[count - 1].id != Token.boundary {
                                buffer.initializeElement(at: count, to: Token(id: Token.boundary, start: start, end: end, value: .nan))
                                count += 1
                            }
                        } else {
                            let id = table[hash]
                            if firstCandidate == .max, id >= 0, Int(id) + 1 < firstRewrite.count,
                               firstRewrite[Int(id)] != firstRewrite[Int(id) + 1] {
                                firstCandidate = count
                            }
                            buffer.initializeElement(
                                at: count, to: Token(id: id < 0 && !value.isNaN ? Token.number : id, start: start, end: end, value: value))
                            count += 1
                        }
                    }
                }
                initialized = count
            }
        }
        if firstCandidate < tokens.count { rewrite(&tokens, from: firstCandidate) }
        return tokens
    }

    /// Rewrites the synonyms in `tokens`, none of which starts before `first`.
    private func rewrite(_ tokens: inout [Token], from first: Int = 0) {
        guard !rewrites.isEmpty else { return }
        let count = tokens.count
        var write = first
        firstRewrite.withUnsafeBufferPointer { firstRewrite in
            rewrites.withUnsafeBufferPointer { rewrites in
                tails.withUnsafeBufferPointer { tails in
                    isSecondWord.withUnsafeBufferPointer { isSecondWord in
                        tokens.withUnsafeMutableBufferPointer { tokens in
                            var read = first
                            while read < count {
                                var token = tokens[read]
                                read += 1
                                let id = Int(token.id)
                                var rewritten = false
                                if id >= 0, id + 1 < firstRewrite.count {
                                    var start = Int(firstRewrite[id])
                                    let end = Int(firstRewrite[id + 1])
                                    // Longest first: unless the next word is the second word of some
                                    // rewrite, only the rewrites of this word alone, at the end, can match.
                                    let next = read < count ? Int(tokens[read].id) : -1
                                    if start < end, next < 0 || next >= isSecondWord.count || !isSecondWord[next] {
                                        start = end
                                        while start > Int(firstRewrite[id]), rewrites[start - 1].count == 0 { start -= 1 }
                                    }
                                    for candidate in start..<end {
                                        let rewrite = rewrites[candidate]
                                        let length = Int(rewrite.count)
                                        guard read + length <= count else { continue }
                                        var matches = true
                                        for offset in 0..<length where tokens[read + offset].id != tails[Int(rewrite.offset) + offset] {
                                            matches = false
                                            break
                                        }
                                        guard matches else { continue }
                                        if length > 0 { token.end = tokens[read + length - 1].end }
                                        read += length
                                        token.id = rewrite.canonical
                                        rewritten = true
                                        break
                                    }
                                }
                                // Until a synonym of several words is rewritten, tokens stay where they are.
                                if rewritten || write + 1 != read { tokens[write] = token }
                                write += 1
                            }
                        }
                    }
                }
            }
        }
        tokens.removeLast(count - write)
    }

    // MARK: Words

    static let boundaryHash: UInt64 = 1

    /// The hash of each word's compared form (no markers): lower-cased, apostrophes dropped,
    /// stemmed, "%" read as "percent".
    static func wordHashes(_ text: String) -> [UInt64] {
        var hashes = [UInt64]()
        var text = text
        text.withUTF8 {
            forEachWord($0) { hash, _, _, _ in
                if hash != boundaryHash { hashes.append(hash) }
            }
        }
        return hashes
    }

    /// Each word written in letters (and digits) as the fit names it: lower-cased ASCII,
    /// apostrophes dropped. Numbers, "%" and words with other characters are left out.
    static func surfaceWords(_ text: String) -> [String] {
        var words = [String]()
        var text = text
        text.withUTF8 { bytes in
            forEachWord(bytes) { hash, start, end, value in
                guard hash != boundaryHash, hash != percentHash, value.isNaN else { return }
                var word = [UInt8]()
                var index = Int(start)
                while index < Int(end) {
                    let byte = bytes[index]
                    index += 1
                    if byte == 0x27 { continue }
                    if byte == 0xE2, index + 1 < bytes.count, bytes[index] == 0x80,
                       bytes[index + 1] == 0x99 || bytes[index + 1] == 0x98 {  // ’ ‘
                        index += 2
                        continue
                    }
                    guard byte < 0x80 else { return }
                    word.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
                }
                if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
            }
        }
        return words
    }

    private static let percentHash: UInt64 = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 72) { word in
        word.initialize(repeating: 0)
        for (index, byte) in "percent".utf8.enumerated() { word[index] = byte }
        return stemmedHash(word, 7)
    }

    /// Calls `body` with each word's hash, byte range and, for a number written in digits, its
    /// value (NaN for other words); `boundaryHash` at the end of a clause.
    @inline(__always) private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    @inline(__always)
    static func forEachWord(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UInt64, Int32, Int32, Double) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 72) { word in
            word.initialize(repeating: 0)
            var length = 0
            var start = 0
            var digitsOnly = true
            var index = 0
            func finish(at end: Int) {
                if length > 0 {
                    if digitsOnly {
                        var value = 0.0, scale = 0.0
                        for i in 0..<length {
                            if word[i] == 0x2E { scale = 1 } else {
                                let digit = Double(word[i] - 0x30)
                                if scale == 0 { value = value * 10 + digit } else { scale /= 10; value += digit * scale }
                            }
                        }
                        body(stemmedHash(word, length), Int32(start), Int32(end), value)
                    } else {
                        body(stemmedHash(word, length), Int32(start), Int32(end), .nan)
                    }
                }
                length = 0
                digitsOnly = true
            }
            while index < bytes.count {
                var byte = bytes[index]
                // Most bytes are ASCII letters: the fast path.
                let lower = byte | 0x20
                if lower >= 0x61 && lower <= 0x7A {
                    if length == 0 { start = index }
                    digitsOnly = false
                    // Up to eight letters at once: the run of ASCII letters among the next eight
                    // bytes, lower-cased and stored with one store (the hash reads them back with
                    // one load).
                    if index + 8 <= bytes.count {
                        let eight = UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self)
                        let lowered = eight | 0x2020_2020_2020_2020
                        let run = Self.letterRun(lowered)
                        if length < 64 {
                            UnsafeMutableRawPointer(word.baseAddress! + length).storeBytes(of: lowered, as: UInt64.self)
                            length = min(64, length + run)
                        }
                        index += run
                        continue
                    }
                    if length < 64 {
                        word[length] = lower
                        length += 1
                    }
                    index += 1
                    continue
                }
                let at = index
                index += 1
                if byte == 0xC2, index < bytes.count, bytes[index] == 0xA0 {  // no-break space
                    index += 1
                    finish(at: at)
                    continue
                }
                if byte == 0x27 { continue }  // '
                if byte == 0xE2, index + 1 < bytes.count, bytes[index] == 0x80 {
                    let third = bytes[index + 1]
                    index += 2
                    if third == 0x99 || third == 0x98 { continue }  // ’ ‘
                    finish(at: at)
                    if third == 0x93 || third == 0x94 || third == 0xA6 { body(boundaryHash, Int32(at), Int32(index), .nan) }  // – — …
                    continue
                }
                let isLetter = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte >= 0x80
                let isDigit = byte >= 0x30 && byte <= 0x39
                if isLetter || isDigit {
                    if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
                    if length == 0 { start = at }
                    if isLetter { digitsOnly = false }
                    // Turkish ı and İ are i: a writer in capitals writes "YAPAMIYOR" for "yapamıyor".
                    if byte == 0xC4, index < bytes.count, bytes[index] == 0xB0 || bytes[index] == 0xB1 {
                        if length < 64 {
                            word[length] = 0x69
                            length += 1
                        }
                        index += 1
                        continue
                    }
                    // "CAÍDO" is "caído": a capital of Latin-1 or Latin Extended-A, as two bytes.
                    // (Both bytes kept as far as they fit: a capital and its small letter read alike
                    // also at the 64th byte.)
                    if byte >= 0xC3, byte <= 0xC5, index < bytes.count, let lowered = Self.lowercased(byte, bytes[index]) {
                        if length < 64 {
                            word[length] = lowered.lead
                            length += 1
                        }
                        if length < 64 {
                            word[length] = lowered.trail
                            length += 1
                        }
                        index += 1
                        continue
                    }
                    if length < 64 {
                        word[length] = byte
                        length += 1
                    }
                    continue
                }
                // "2,000" and "99.5" are one number.
                if (byte == 0x2C || byte == 0x2E), length > 0, digitsOnly, index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    if byte == 0x2E, length < 64 {
                        word[length] = 0x2E
                        length += 1
                    }
                    continue
                }
                finish(at: at)
                switch byte {
                case 0x25:  // %
                    body(percentHash, Int32(at), Int32(index), .nan)
                case 0x2E, 0x2C, 0x3B, 0x3A, 0x21, 0x3F, 0x28, 0x29, 0x5B, 0x5D:  // . , ; : ! ? ( ) [ ]
                    body(boundaryHash, Int32(at), Int32(index), .nan)
                case 0x2D where at > 0 && index < bytes.count && isSpace(bytes[at - 1]) && isSpace(bytes[index]):  // " - "
                    body(boundaryHash, Int32(at), Int32(index), .nan)
                default:
                    break
                }
            }
            finish(at: bytes.count)
        }
    }

    /// A character of Latin-1's upper half or Latin Extended-A written as the two UTF-8 bytes
    /// `lead` (0xC3–0xC5), `trail`, with a capital made small (À–Þ but ×, Ā–ž, Ÿ: the letters of
    /// Spanish, French, German, Polish, Czech, Turkish…); nil when `trail` continues no character.
    /// İ and ı are not read here: the caller reads both as i.
    @inline(__always)
    static func lowercased(_ lead: UInt8, _ trail: UInt8) -> (lead: UInt8, trail: UInt8)? {
        guard trail & 0xC0 == 0x80 else { return nil }
        let scalar = UInt32(lead & 0x1F) << 6 | UInt32(trail & 0x3F)
        let small: UInt32
        switch scalar {
        case 0xC0...0xDE where scalar != 0xD7: small = scalar + 0x20
        case 0x100...0x12F, 0x132...0x137, 0x14A...0x177: small = scalar & 1 == 0 ? scalar + 1 : scalar
        case 0x139...0x148, 0x179...0x17E: small = scalar & 1 == 1 ? scalar + 1 : scalar
        case 0x178: small = 0xFF  // Ÿ ÿ
        default: small = scalar
        }
        return (0xC0 | UInt8(small >> 6), 0x80 | UInt8(small & 0x3F))
    }

    /// How many of the eight bytes (lower-cased: `| 0x20` each), from the first, are ASCII
    /// letters: bytes 0x61–0x7A, tested eight at a time without carries between bytes.
    @inline(__always)
    static func letterRun(_ lowered: UInt64) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let low = lowered & (0x7F &* ones)
        let atLeastA = (low &+ (0x80 - 0x61) &* ones) & (0x80 &* ones)
        let pastZ = (low &+ (0x80 - 0x7B) &* ones) & (0x80 &* ones)
        let letters = atLeastA & ~pastZ & ~lowered
        let others = ~letters & (0x80 &* ones)
        return others == 0 ? 8 : others.trailingZeroBitCount >> 3
    }

    /// A 64-bit hash of the word's stem: plural and verb endings removed ("-s", "-es", "-ies", "-ed",
    /// "-ing", then a doubled final consonant), so most inflections share one hash. A final
    /// "e" stays ("note" must not become "not"): "time" and "timed" are listed apart.
    private static func stemmedHash(_ word: UnsafeMutableBufferPointer<UInt8>, _ length: Int) -> UInt64 {
        // Byte comparisons written out: this runs for every word of every ticket.
        let a: UInt8 = 0x61, c: UInt8 = 0x63, d: UInt8 = 0x64, e: UInt8 = 0x65, g: UInt8 = 0x67, h: UInt8 = 0x68
        let i: UInt8 = 0x69, l: UInt8 = 0x6C, n: UInt8 = 0x6E, o: UInt8 = 0x6F, s: UInt8 = 0x73, u: UInt8 = 0x75
        let x: UInt8 = 0x78, z: UInt8 = 0x7A
        var end = length
        var addY = false
        if end > 4, word[end - 3] == i, word[end - 2] == e, word[end - 1] == s || word[end - 1] == d {
            end -= 3  // -ies, -ied → -y
            addY = true
        } else if end > 4, word[end - 2] == e, word[end - 1] == s,
            (word[end - 3] == x) || ((word[end - 3] == s || word[end - 3] == h) && (word[end - 4] == s || word[end - 4] == c || word[end - 4] == s))
                || (word[end - 3] == h && word[end - 4] == c) {
            end -= 2  // -sses, -shes, -ches, -xes
        } else if end > 3, word[end - 1] == s, word[end - 2] != s, word[end - 2] != u, word[end - 2] != i {
            end -= 1
        }
        if !addY {
            var stripped = false
            // The stem keeps four letters at least: "noted" and "noting" must not become "not".
            if end >= 7, word[end - 3] == i, word[end - 2] == n, word[end - 1] == g {
                end -= 3
                stripped = true
            } else if end >= 6, word[end - 2] == e, word[end - 1] == d {
                end -= 2
                stripped = true
            }
            // stopped → stop, but installed → install
            if stripped, end >= 2 {
                let last = word[end - 1]
                if last == word[end - 2], last != a, last != e, last != i, last != o, last != u, last != l, last != s, last != z {
                    end -= 1
                }
            }
        }
        if addY {
            word[end] = 0x79  // y
            end += 1
        }
        // Eight bytes at a time (the buffer has room past the word; bytes past `end` are masked).
        let raw = UnsafeRawPointer(word.baseAddress!)
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(end)
        var index = 0
        while index < end {
            var chunk = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let remaining = end - index
            if remaining < 8 { chunk &= (1 << UInt64(remaining * 8)) &- 1 }
            hash = (hash ^ chunk) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 29
            index += 8
        }
        return hash < 3 ? hash + 3 : hash
    }
}

/// Hash → id, open addressing: the classifier looks up every word of every text (a word's
/// hash → its token id) and many of its word pairs (`WordPairs`). A hash is never 0.
struct VocabularyTable: Sendable {
    /// A hash and its id side by side: a word found costs one cache line, not two.
    private struct Slot: Sendable {
        var key: UInt64
        var value: Int32
    }
    private let slots: [Slot]
    private let mask: Int

    init(_ vocabulary: [UInt64: Int32]) {
        var capacity = 16
        while capacity < vocabulary.count * 2 { capacity <<= 1 }
        var slots = [Slot](repeating: Slot(key: 0, value: -1), count: capacity)
        for (hash, id) in vocabulary {
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot].key != 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = Slot(key: hash, value: id)
        }
        self.slots = slots
        mask = capacity - 1
    }

    /// The id of a word, or -1 when no rule uses it.
    @inline(__always) subscript(hash: UInt64) -> Int32 {
        slots.withUnsafeBufferPointer { slots in
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let candidate = slots[slot]
                if candidate.key == hash { return candidate.value }
                if candidate.key == 0 { return -1 }
                slot = (slot + 1) & mask
            }
        }
    }
}
