import ServiceRuntime

/// API keys for intake's HTTP API: each key belongs to one source (`INTAKE_API_KEYS`,
/// `source=key` pairs, comma-separated). Keys are compared in constant time and never logged.
public struct APIKeys: Sendable {
    private let secrets: NamedSecrets

    public init(_ pairs: [(source: String, key: String)]) {
        secrets = NamedSecrets(pairs.map { ($0.source, $0.key) })
    }

    /// Parses `crm=k1,mail=k2`. The error never repeats a key.
    public static func parse(_ text: String) throws(NamedSecrets.ParseError) -> APIKeys {
        APIKeys(secrets: try NamedSecrets.parse(text, variable: "INTAKE_API_KEYS", nameKind: "source", secretKind: "key"))
    }

    private init(secrets: NamedSecrets) { self.secrets = secrets }

    public var isEmpty: Bool { secrets.isEmpty }

    /// The source a presented key belongs to.
    public func source(for presented: String) -> String? { secrets.name(for: presented) }
}
