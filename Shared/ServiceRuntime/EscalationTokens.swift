import HelpdeskModel

/// Bearer tokens for the escalation API (`ESCALATION_TOKENS`: comma-separated
/// `token=role:name` pairs). Roles: `agent` (may read and request an escalation), `engineer`
/// and `manager` (may also run one). Tokens are compared in constant time and never logged.
/// The escalation API and the web console (which signs people in with them) read the same list.
public struct EscalationTokens: Sendable {
    let table: SecretTable<EscalationActor>

    public static let roles: [EscalationActor.Role] = [.agent, .engineer, .manager]

    public init(_ entries: [(token: String, actor: EscalationActor)]) {
        table = SecretTable(entries.map { ($0.token, $0.actor) })
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Parses `t0k3n…=engineer:eve@support.example,…`. The error never repeats a token.
    public static func parse(_ text: String) throws(ParseError) -> EscalationTokens {
        var entries = [(token: String, actor: EscalationActor)]()
        for (index, item) in text.split(separator: ",").enumerated() {
            let problem = ParseError(description: "ESCALATION_TOKENS entry \(index + 1) must be token=role:name with a token of at least "
                + "16 characters, a role of \(roles.map(\.rawValue).joined(separator: "|")) and a name")
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].count >= 16 else { throw problem }
            let grant = pair[1].split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard grant.count == 2, let role = EscalationActor.Role(rawValue: grant[0]), roles.contains(role), !grant[1].isEmpty else {
                throw problem
            }
            entries.append((pair[0], EscalationActor(grant[1], role: role)))
        }
        return EscalationTokens(entries)
    }

    public var isEmpty: Bool { table.isEmpty }

    public func actor(for presented: String) -> EscalationActor? { table.grant(for: presented) }
}
