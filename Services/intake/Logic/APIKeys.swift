import ServiceRuntime

/// API keys for intake's HTTP API: each key belongs to one source (`INTAKE_API_KEYS`,
/// `source=key` pairs, comma-separated). Keys are compared in constant time and never logged.
public struct APIKeys: Sendable {
    private let table: SecretTable<String>

    public init(_ pairs: [(source: String, key: String)]) {
        table = SecretTable(pairs.map { ($0.key, $0.source) })
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

    public var isEmpty: Bool { table.isEmpty }

    /// The source a presented key belongs to.
    public func source(for presented: String) -> String? { table.grant(for: presented) }
}
