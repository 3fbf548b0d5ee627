/// API keys for intake's HTTP API: each key belongs to one source (`INTAKE_API_KEYS`,
/// `source=key` pairs, comma-separated). Keys are compared in constant time and never logged.
public struct APIKeys: Sendable {
    private let entries: [(source: String, key: [UInt8])]

    public init(_ pairs: [(source: String, key: String)]) {
        entries = pairs.map { ($0.source, Array($0.key.utf8)) }
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Parses `crm=k1,mail=k2`. The error never repeats a key.
    public static func parse(_ text: String) throws(ParseError) -> APIKeys {
        var pairs = [(source: String, key: String)]()
        for (index, item) in text.split(separator: ",").enumerated() {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].count >= 16 else {
                throw ParseError(description: "INTAKE_API_KEYS entry \(index + 1) must be source=key with a key of at least 16 characters")
            }
            pairs.append((parts[0], parts[1]))
        }
        return APIKeys(pairs)
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The source a presented key belongs to. Every configured key is compared, in full, so
    /// the time taken does not depend on which key (if any) matched or where it differed.
    public func source(for presented: String) -> String? {
        let candidate = Array(presented.utf8)
        var match: String?
        for entry in entries where Self.constantTimeEqual(entry.key, candidate) {
            match = match ?? entry.source
        }
        return match
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let length = max(a.count, b.count)
        for i in 0..<length {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

import Foundation
