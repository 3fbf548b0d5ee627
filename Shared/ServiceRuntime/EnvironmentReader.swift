import Foundation
import HelpdeskModel
import Logging

/// A configuration problem found at start-up; lists every bad value at once.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
}

/// Reads settings from the environment with documented defaults, collecting one clear
/// message per bad value (12-factor configuration).
public final class EnvironmentReader {
    public let environment: [String: String]
    private(set) var problems: [String] = []

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    private func raw(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    public func string(_ name: String, default fallback: String) -> String { raw(name) ?? fallback }

    public func optionalString(_ name: String) -> String? { raw(name) }

    public func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
        guard let text = raw(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            problems.append("\(name)=\(text) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
            return fallback
        }
        return value
    }

    public func logLevel(_ name: String = "LOG_LEVEL", default fallback: Logger.Level = .info) -> Logger.Level {
        guard let text = raw(name) else { return fallback }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: "|")
            problems.append("\(name)=\(text) is not one of \(allowed)")
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

extension EnvironmentReader {
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
