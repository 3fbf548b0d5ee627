import Configuration
import Foundation
import HelpdeskModel
import Logging

/// A configuration problem found at start-up; lists every bad value at once.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
}

/// A service's settings, read through swift-configuration from the environment (12-factor),
/// with documented defaults. Settings are named as their variables (`HTTP_PORT`). Values must
/// parse and fall in range; each one that does not is noted, and `validate` throws one
/// `ConfigurationError` that lists them all. Secrets (`*_TOKENS`, `*_KEYS`, `*_PASSWORD`,
/// `*_SECRET`) are marked secret to swift-configuration, which redacts them wherever it reports
/// an access, and are never part of a problem's text.
public final class SettingsReader {
    /// The variables as given (Kafka's `KAFKA_*` properties are taken from them whole).
    public let environment: [String: String]
    private let config: ConfigReader
    private(set) var problems: [String] = []

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
        config = ConfigReader(provider: EnvironmentVariablesProvider(
            environmentVariables: environment, secretsSpecifier: .dynamic { name, _ in Self.isSecret(name) }))
    }

    /// Whether the variable holds a secret.
    public static func isSecret(_ name: String) -> Bool {
        ["_TOKENS", "_KEYS", "_PASSWORD", "_SECRET", "_SECRETS"].contains { name.hasSuffix($0) }
    }

    /// The variable `HTTP_PORT` is the key `http.port`.
    private func raw(_ name: String) -> String? {
        let key = ConfigKey(name.lowercased().split(separator: "_").map(String.init))
        guard let value = config.string(forKey: key, isSecret: Self.isSecret(name))?.trimmingCharacters(in: .whitespaces),
              !value.isEmpty else { return nil }
        return value
    }

    /// How a bad value is quoted in a problem: never a secret's.
    private func shown(_ name: String, _ value: String) -> String { Self.isSecret(name) ? "\(name)=<secret>" : "\(name)=\(value)" }

    public func string(_ name: String, default fallback: String) -> String { raw(name) ?? fallback }

    public func optionalString(_ name: String) -> String? { raw(name) }

    public func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let text = raw(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            problems.append("\(shown(name, text)) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
            return fallback
        }
        return value
    }

    public func logLevel(_ name: String = "LOG_LEVEL", default fallback: Logger.Level = .info) -> Logger.Level {
        guard let text = raw(name) else { return fallback }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: "|")
            problems.append("\(shown(name, text)) is not one of \(allowed)")
            return fallback
        }
        return level
    }

    public func fail(_ problem: String) { problems.append(problem) }

    /// Throws if anything was wrong.
    public func validate() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}

extension SettingsReader {
    /// The SLA policy from `HELPDESK_POLICY_FILE`, or the built-in standard policy.
    public func policy() -> SLAPolicy {
        guard let path = optionalString("HELPDESK_POLICY_FILE") else { return .standard }
        do {
            return try SLAPolicy.load(file: path)
        } catch {
            fail("HELPDESK_POLICY_FILE=\(path): \(error)")
            return .standard
        }
    }
}
