import Foundation
import Yams

/// What `helpdesk dev` runs: each HelpdeskSLA service of the compose file, with the
/// environment compose gives it, adapted to one machine: the embedded broker's address, the
/// mounted configuration read from where it is mounted from, an HTTP port per instance, and
/// `{hostname}` (which names static group members) made unique per instance.
struct DevPlan {
    struct Instance: Equatable {
        let service: String
        let index: Int
        let name: String
        let environment: [String: String]
        var port: Int? { environment["HTTP_PORT"].flatMap(Int.init) }
    }

    static let services = ["intake", "classifier", "sla-timer", "escalation", "notifier", "history", "forecaster"]
    /// Instance k (from 1) of a service listens on its compose port + (k - 1) × portStride.
    static let portStride = 100

    struct ServiceDefinition {
        var environment: [String: String]
        /// Container path → host path, from the service's volumes.
        var mounts: [(container: String, host: String)]
    }

    let definitions: [String: ServiceDefinition]

    /// Reads the HelpdeskSLA services of a compose file: `environment` (with `<<` merges),
    /// `env_file` and bind-mounted `volumes`, relative to the file's folder.
    init(composeFile: String) throws {
        let folder = URL(fileURLWithPath: composeFile).deletingLastPathComponent()
        guard let text = try? String(contentsOfFile: composeFile, encoding: .utf8) else {
            throw CLIError("cannot read \(composeFile)")
        }
        guard let root = try Yams.load(yaml: text) as? [String: Any], let services = root["services"] as? [String: Any] else {
            throw CLIError("\(composeFile) has no services")
        }
        var definitions = [String: ServiceDefinition]()
        for name in Self.services {
            guard let service = Self.merged(services[name]) else { continue }
            var environment = [String: String]()
            for file in (service["env_file"] as? [Any] ?? []).compactMap({ $0 as? String }) {
                let path = folder.appendingPathComponent(file).path
                guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIError("cannot read \(path)") }
                for line in contents.split(separator: "\n") where !line.hasPrefix("#") {
                    guard let equals = line.firstIndex(of: "=") else { continue }
                    environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
                }
            }
            for (key, value) in Self.merged(service["environment"]) ?? [:] {
                environment[key] = "\(value)"
            }
            var mounts = [(container: String, host: String)]()
            for volume in (service["volumes"] as? [Any] ?? []).compactMap({ $0 as? String }) {
                let parts = volume.split(separator: ":").map(String.init)
                guard parts.count >= 2, parts[0].hasPrefix(".") || parts[0].hasPrefix("/") else { continue }
                mounts.append((parts[1], folder.appendingPathComponent(parts[0]).standardizedFileURL.path))
            }
            definitions[name] = ServiceDefinition(environment: environment, mounts: mounts)
        }
        guard !definitions.isEmpty else { throw CLIError("\(composeFile) defines none of \(Self.services.joined(separator: ", "))") }
        self.definitions = definitions
    }

    /// A mapping with YAML merge keys (`<<: *anchor`) applied, whether or not the parser did.
    private static func merged(_ node: Any?) -> [String: Any]? {
        guard var mapping = node as? [String: Any] else { return nil }
        if let base = mapping.removeValue(forKey: "<<") {
            let bases = (base as? [Any]) ?? [base]
            for case let inherited as [String: Any] in bases.reversed() {
                mapping.merge(merged(inherited) ?? inherited) { own, _ in own }
            }
        }
        return mapping
    }

    /// The instances to start, in pipeline order, `scale[service]` of each (default 1), their
    /// HTTP ports moved by `portOffset`.
    func instances(bootstrap: String, scale: [String: Int], portOffset: Int = 0, overrides: [String: String] = [:]) -> [Instance] {
        Self.services.filter { definitions[$0] != nil }.flatMap { service in
            let count = scale[service] ?? 1
            return (0..<max(count, 0)).compactMap { offset in
                instance(of: service, index: offset + 1, named: count > 1, bootstrap: bootstrap, portOffset: portOffset, overrides: overrides)
            }
        }
    }

    /// Instance `index` (from 1) of a service; `named` adds the index to its name, as for every
    /// instance of a service that runs more than one.
    func instance(
        of service: String, index: Int, named: Bool, bootstrap: String, portOffset: Int, overrides: [String: String]
    ) -> Instance? {
        guard let definition = definitions[service] else { return nil }
        var environment = [String: String]()
        for (key, value) in definition.environment {
            var value = value
            for mount in definition.mounts where value.hasPrefix(mount.container + "/") || value == mount.container {
                value = mount.host + value.dropFirst(mount.container.count)
            }
            environment[key] = value.replacingOccurrences(of: "{hostname}", with: "dev-\(index)")
        }
        environment["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
        // One machine, no containers: the services listen on loopback only, whatever the
        // compose file opens inside its containers.
        environment["HTTP_HOST"] = "127.0.0.1"
        if let port = environment["HTTP_PORT"].flatMap(Int.init) {
            environment["HTTP_PORT"] = String(port + portOffset + (index - 1) * Self.portStride)
        }
        environment.merge(overrides) { _, override in override }
        return Instance(service: service, index: index, name: named ? "\(service)-\(index)" : service, environment: environment)
    }
}
