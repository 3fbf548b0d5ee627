/// A ticket's identity inside the system, derived from where it came from so that a
/// redelivered or re-posted inbound message maps to the same ticket.
public struct TicketID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// A derived id is kept as its 12 digest bytes rather than a 27-character string: the
    /// sla-timer holds a million of them. Any other text (never derived here) is kept as is.
    private enum Storage: Hashable, Sendable {
        case digest(UInt64, UInt32)
        case text(String)
    }

    private let storage: Storage

    public init(rawValue: String) {
        storage = Self.digest(parsing: rawValue).map { .digest($0.0, $0.1) } ?? .text(rawValue)
    }

    /// `tk_` and the first 96 bits of SHA-256 over `source`, a NUL, and `externalId`
    /// (the NUL keeps `a/b`+`c` apart from `a`+`b/c`).
    public init(source: String, externalId: String) {
        let digest = SHA256.digest(Array(source.utf8) + [0] + Array(externalId.utf8))
        var high: UInt64 = 0
        var low: UInt32 = 0
        for byte in digest.prefix(8) { high = high << 8 | UInt64(byte) }
        for byte in digest.dropFirst(8).prefix(4) { low = low << 8 | UInt32(byte) }
        storage = .digest(high, low)
    }

    public var rawValue: String {
        switch storage {
        case .text(let text): return text
        case .digest(let high, let low):
            var bytes = [UInt8]()
            bytes.reserveCapacity(12)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
            for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: low >> UInt32(shift))) }
            return "tk_" + Hex.encode(bytes)
        }
    }

    private static func digest(parsing text: String) -> (UInt64, UInt32)? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 27, utf8[0] == 0x74, utf8[1] == 0x6B, utf8[2] == 0x5F else { return nil }
        var high: UInt64 = 0
        var low: UInt32 = 0
        for (index, char) in utf8.dropFirst(3).enumerated() {
            let nibble: UInt8
            switch char {
            case 0x30...0x39: nibble = char - 0x30
            case 0x61...0x66: nibble = char - 0x61 + 10
            default: return nil  // upper-case hex is not how ids are written: keep such text apart
            }
            if index < 16 { high = high << 4 | UInt64(nibble) } else { low = low << 4 | UInt32(nibble) }
        }
        return (high, low)
    }

    /// The inbound key: `source/externalId`.
    public static func inboundKey(source: String, externalId: String) -> String { "\(source)/\(externalId)" }

    public var description: String { rawValue }
    /// The order of `rawValue`. Two derived ids compare by their digest, which orders as its
    /// fixed-width lower-case hex does, without building either string (the forecast sorts
    /// queues whose tickets tie on severity and due instant: a Monday morning's).
    public static func < (lhs: TicketID, rhs: TicketID) -> Bool {
        if case .digest(let a, let b) = lhs.storage, case .digest(let c, let d) = rhs.storage { return (a, b) < (c, d) }
        return lhs.rawValue < rhs.rawValue
    }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// An event's identity: the same input always yields the same id, so consumers can drop
/// redelivered duplicates. UUID-shaped (version 8, "custom") for tools that expect UUIDs.
public struct EventID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// Derives an id from the parts that identify the event: who emits it, what kind it is,
    /// and what input caused it. Parts are length-prefixed so no two lists collide.
    public static func derive(_ parts: [String]) -> EventID {
        var bytes = [UInt8]()
        bytes.reserveCapacity(parts.reduce(0) { $0 + 4 + $1.utf8.count })
        for part in parts {
            withUnsafeBytes(of: UInt32(part.utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: part.utf8)
        }
        var digest = SHA256.digest(bytes)
        digest[6] = (digest[6] & 0x0f) | 0x80
        digest[8] = (digest[8] & 0x3f) | 0x80
        // 8-4-4-4-12 hex digits of the first 16 bytes.
        var text = [UInt8]()
        text.reserveCapacity(36)
        for index in 0..<16 {
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            Hex.append(digest[index], to: &text)
        }
        return EventID(rawValue: String(decoding: text, as: UTF8.self))
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
