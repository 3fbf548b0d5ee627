/// A ticket's identity inside the system, derived from where it came from so that a
/// redelivered or re-posted inbound message maps to the same ticket.
public struct TicketID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// `tk_` and the first 96 bits of SHA-256 over `source`, a NUL, and `externalId`
    /// (the NUL keeps `a/b`+`c` apart from `a`+`b/c`).
    public init(source: String, externalId: String) {
        let digest = SHA256.digest(Array(source.utf8) + [0] + Array(externalId.utf8))
        self.rawValue = "tk_" + Hex.encode(digest.prefix(12))
    }

    /// The inbound key: `source/externalId`.
    public static func inboundKey(source: String, externalId: String) -> String { "\(source)/\(externalId)" }

    public var description: String { rawValue }
    public static func < (lhs: TicketID, rhs: TicketID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
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
        for part in parts {
            let utf8 = Array(part.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: utf8)
        }
        var digest = Array(SHA256.digest(bytes).prefix(16))
        digest[6] = (digest[6] & 0x0f) | 0x80
        digest[8] = (digest[8] & 0x3f) | 0x80
        let hex = Hex.encode(digest)
        let chars = Array(hex)
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(chars[$0]) }
        return EventID(rawValue: groups.joined(separator: "-"))
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
