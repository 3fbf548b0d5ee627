/// The model's word pairs ("log in", "every store"): two vocabulary ids in a row → the pair's
/// row among the model's words. Open addressing over a power-of-two table: a 2 KB ticket looks
/// up a few hundred pairs, so a lookup must be a hash and a probe or two, with no allocation.
struct WordPairs: Sendable {
    private let keys: [UInt64]
    private let rows: [Int32]
    private let mask: Int
    private static let empty = UInt64.max
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
        var size = 16
        while size < pairs.count * 2 { size <<= 1 }
        var keys = [UInt64](repeating: Self.empty, count: size)
        var rows = [Int32](repeating: -1, count: size)
        mask = size - 1
        for pair in pairs {
            let key = Self.key(pair.first, pair.second)
            var slot = Self.slot(key, mask)
            while keys[slot] != Self.empty, keys[slot] != key { slot = (slot + 1) & mask }
            keys[slot] = key
            rows[slot] = pair.row
        }
        self.keys = keys
        self.rows = rows
    }

    @inline(__always) static func key(_ first: Int32, _ second: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
    }

    @inline(__always) private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The row of the pair, or -1.
    @inline(__always) func row(_ first: Int32, _ second: Int32) -> Int32 {
        let key = Self.key(first, second)
        var slot = Self.slot(key, mask)
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let found = keys[slot]
                if found == key { return rows[slot] }
                if found == Self.empty { return -1 }
                slot = (slot + 1) & mask
            }
        }
    }
}
