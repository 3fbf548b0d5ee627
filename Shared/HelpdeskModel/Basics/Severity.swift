/// The policy's three severities. Level 1 is the most urgent.
public enum Severity: Int, Sendable, Hashable, CaseIterable, Comparable, Codable, CustomStringConvertible {
    case critical = 1
    case major = 2
    case minor = 3

    public var name: String {
        switch self {
        case .critical: "critical"
        case .major: "major"
        case .minor: "minor"
        }
    }

    public var level: Int { rawValue }
    public var description: String { name }

    /// Accepts the names (`critical|major|minor`, any case) and the levels (`1|2|3`).
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "critical", "1": self = .critical
        case "major", "2": self = .major
        case "minor", "3": self = .minor
        default: return nil
        }
    }

    public static let allowedSpellings = "critical|major|minor|1|2|3"

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        // "Less" means less urgent, so max() picks the most urgent.
        lhs.rawValue > rhs.rawValue
    }

    // On the wire a severity is its name.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self), let severity = Severity(parsing: text) {
            self = severity
        } else if let level = try? container.decode(Int.self), let severity = Severity(rawValue: level) {
            self = severity
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected one of \(Severity.allowedSpellings)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
