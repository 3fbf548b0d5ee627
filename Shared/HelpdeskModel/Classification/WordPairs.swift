/// The model's word pairs ("log in", "every store"): two vocabulary ids in a row → the pair's
/// row among the model's words. A 2 KB ticket looks up a few hundred pairs, so a lookup is a
/// hash and a probe or two of the vocabulary's own open-addressing table, with no allocation.
struct WordPairs: Sendable {
    private let table: VocabularyTable
    /// A bit per pair hash's top 17 bits (16 KB, so it stays in the first-level cache): a pair
    /// none of the model's is mostly turned away without a probe of the table (512 KB).
    /// Measured in docs/benchmarks.md#classifier: without it, 3 % slower.
    private let filter: [UInt64]
    private static let filterBits = 17
    static let starts: UInt8 = 1
    static let finishes: UInt8 = 2
    /// Per vocabulary id: bit 0 when some pair starts with it, bit 1 when some pair ends with it
    /// (most words do neither: no probe).
    let ends: [UInt8]

    init(_ pairs: [(first: Int32, second: Int32, row: Int32)], vocabularySize: Int) {
        var ends = [UInt8](repeating: 0, count: vocabularySize)
        for pair in pairs {
            ends[Int(pair.first)] |= Self.starts
            ends[Int(pair.second)] |= Self.finishes
        }
        self.ends = ends
        // The classifier refuses two spellings of one pair before it gets here.
        let hashes = pairs.map { Self.hash($0.first, $0.second) }
        table = VocabularyTable(Dictionary(uniqueKeysWithValues: zip(hashes, pairs.map(\.row))))
        var filter = [UInt64](repeating: 0, count: (1 << Self.filterBits) / 64)
        for hash in hashes {
            let bit = Self.filterBit(hash)
            filter[bit >> 6] |= 1 << UInt64(bit & 63)
        }
        self.filter = filter
    }

    /// The two ids side by side: one key per pair.
    @inline(__always) static func key(_ first: Int32, _ second: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
    }

    /// The key mixed as the vocabulary table wants its hashes (MurmurHash3's 64-bit finalizer of
    /// key + 1): a bijection, so two pairs never share a hash, and never 0, the table's empty mark.
    @inline(__always) private static func hash(_ first: Int32, _ second: Int32) -> UInt64 {
        var hash = key(first, second) &+ 1
        hash ^= hash >> 33
        hash &*= 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash &*= 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash
    }

    /// The filter's bit for a pair's hash: its top bits (the table's slot comes from its bottom ones).
    @inline(__always) private static func filterBit(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: hash >> (64 - filterBits))
    }

    /// The row of the pair, or -1.
    @inline(__always) func row(_ first: Int32, _ second: Int32) -> Int32 {
        let hash = Self.hash(first, second)
        let bit = Self.filterBit(hash)
        guard filter.withUnsafeBufferPointer({ $0[bit >> 6] }) & (1 << UInt64(bit & 63)) != 0 else { return -1 }
        return table[hash]
    }
}
