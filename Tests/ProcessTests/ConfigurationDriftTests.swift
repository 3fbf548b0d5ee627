import Foundation
import Testing

/// Configuration cannot drift: every variable a service reads is documented, and every
/// variable compose gives a service is read by one.
@Suite("Configuration drift")
struct ConfigurationDriftTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Variables the services read through `SettingsReader`, found in their source.
    static func variablesReadByServices() throws -> Set<String> {
        var names: Set<String> = ["LOG_LEVEL"]  // SettingsReader.logLevel()'s default name
        let pattern = try NSRegularExpression(pattern: #"\b(?:string|int|optionalString|logLevel)\(\s*"([A-Z][A-Z0-9_]+)""#)
        for folder in [
            "Shared/ServiceRuntime", "Services/intake", "Services/classifier", "Services/sla-timer", "Services/escalation",
            "Services/notifier", "Services/history", "Services/forecaster",
        ] {
            let directory = root.appendingPathComponent(folder)
            let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?
                .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
            for file in files {
                let text = try String(contentsOf: file, encoding: .utf8)
                for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    names.insert(String(text[Range(match.range(at: 1), in: text)!]))
                }
            }
        }
        return names
    }

    /// Variables compose sets for the HelpdeskSLA services (not for Kafka or Prometheus).
    static func variablesSetByCompose() throws -> Set<String> {
        let compose = try String(contentsOf: root.appendingPathComponent("compose/docker-compose.yml"), encoding: .utf8)
        var names = Set<String>()
        var topLevel = ""
        var block = ""
        for line in compose.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first != " ", first != "#" {
                topLevel = String(line.prefix { $0 != ":" })
                block = topLevel
            }
            if topLevel == "services", line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":") {
                block = "services." + line.trimmingCharacters(in: .whitespaces).dropLast()
            }
            let ours = block == "x-helpdesk-env" || ["services.intake", "services.classifier", "services.sla-timer", "services.escalation", "services.notifier",
                                                       "services.history", "services.forecaster"]
                .contains(block)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if ours, line.hasPrefix("  "), let colon = trimmed.firstIndex(of: ":"),
                trimmed[..<colon].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }), !trimmed[..<colon].isEmpty {
                names.insert(String(trimmed[..<colon]))
            }
        }
        let secrets = try String(contentsOf: root.appendingPathComponent("compose/config/secrets.env"), encoding: .utf8)
        for line in secrets.split(separator: "\n") where !line.hasPrefix("#") {
            if let equals = line.firstIndex(of: "=") { names.insert(String(line[..<equals])) }
        }
        return names
    }

    @Test func everyVariableAServiceReadsIsDocumented() throws {
        let operations = try String(contentsOf: Self.root.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        let read = try Self.variablesReadByServices()
        #expect(read.isSuperset(of: ["HTTP_PORT", "INTAKE_API_KEYS", "INTAKE_ORGANIZATIONS_FILE", "CLASSIFIER_RULES_FILE"]))
        for name in read.sorted() {
            #expect(operations.contains("`\(name)`"), "\(name) is read but not documented in docs/operations.md")
        }
        #expect(operations.contains("`KAFKA_<PROPERTY>`"))
    }

    @Test func everyVariableComposeSetsIsRead() throws {
        let read = try Self.variablesReadByServices()
        let set = try Self.variablesSetByCompose()
        #expect(set.isSuperset(of: ["KAFKA_BOOTSTRAP_SERVERS", "HTTP_PORT", "INTAKE_API_KEYS", "INTAKE_ORGANIZATIONS_FILE"]))
        for name in set.sorted() where !name.hasPrefix("KAFKA_") {
            #expect(read.contains(name), "compose sets \(name) but no service reads it")
        }
    }

    @Test func theComposeFileIsValid() throws {
        guard let dockerCompose = Binaries.which("docker-compose") else {
            Issue.record("docker-compose is required (apt-get install docker-compose); scripts/test.sh installs it")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dockerCompose)
        process.arguments = ["-f", Self.root.appendingPathComponent("compose/docker-compose.yml").path, "config", "-q"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
    }
}
