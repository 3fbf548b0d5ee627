import ArgumentParser
import Foundation

/// `helpdesk dev`: the whole stack on one machine, no Docker: the embedded broker and each
/// service of the compose file as its own process, with compose's environment.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the embedded broker and every HelpdeskSLA service locally, each as its own process, until Ctrl-C.",
        discussion: """
            Each service gets the environment compose/docker-compose.yml gives it (its env_file too), with the embedded
            broker's address, the mounted configuration read from compose/config, and per-instance HTTP ports (instance k of
            a service listens on its compose port + (k-1) × 100) and static member ids ({hostname} → dev-k). LOG_LEVEL in
            this environment overrides compose's. It waits for every /readyz, prints the URLs and credentials, prefixes each
            process's lines with its name, and on Ctrl-C (or SIGTERM) stops the services gracefully, then the broker.
            The service executables are taken from the folder this helpdesk binary is in.
            """)

    @Option(help: "The compose file whose services and environment to run.")
    var composeFile = "compose/docker-compose.yml"

    @Option(parsing: .upToNextOption, help: "Instances of a service, e.g. --scale sla-timer=2 escalation=2 (repeatable).")
    var scale: [String] = []

    @Flag(help: "Send demo/tickets.jsonl once everything is ready.")
    var demo = false

    @Option(help: "The demo tickets to send with --demo.")
    var demoFile = "demo/tickets.jsonl"

    @Option(help: "Write the embedded broker's bootstrap address to this file.")
    var bootstrapFile: String?

    @Option(help: "Partitions per topic on the embedded broker.")
    var partitions = 6

    @Option(help: "Brokers in the embedded cluster (`down N` / `up N` on standard input take one down and up).")
    var brokers = 1

    @Option(name: .customLong("set"), parsing: .upToNextOption,
            help: "Environment for every service on top of compose's, e.g. --set HELPDESK_POLICY_FILE=/tmp/policy.yaml (repeatable).")
    var set: [String] = []

    @Option(help: "Added to every service's HTTP port (to run beside another stack).")
    var portOffset = 0

    @Option(help: "Seconds to wait for every service to be ready.")
    var readyTimeout = 120

    func validate() throws {
        _ = try scaleCounts()
        _ = try settings()
        guard (0...50_000).contains(portOffset) else { throw ValidationError("--port-offset must be between 0 and 50000") }
    }

    func settings() throws -> [String: String] {
        var settings = [String: String]()
        for item in set {
            guard let equals = item.firstIndex(of: "="), item[..<equals].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }),
                  equals != item.startIndex else {
                throw ValidationError("--set takes NAME=value with an upper-case variable name, not \"\(item)\"")
            }
            settings[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return settings
    }

    func scaleCounts() throws -> [String: Int] {
        var counts = [String: Int]()
        for item in scale.flatMap({ $0.split(separator: ",") }) {
            let parts = item.split(separator: "=")
            guard parts.count == 2, DevPlan.services.contains(String(parts[0])), let count = Int(parts[1]), (0...9).contains(count) else {
                throw ValidationError("--scale takes service=N with a service of \(DevPlan.services.joined(separator: "|")) and N in 0...9, not \"\(item)\"")
            }
            counts[String(parts[0])] = count
        }
        return counts
    }

    func run() async throws {
        let plan = try DevPlan(composeFile: composeFile)
        let binaries = Bundle.main.executableURL!.resolvingSymlinksInPath().deletingLastPathComponent()
        let helpdesk = binaries.appendingPathComponent("helpdesk").path
        let output = DevOutput()
        let environment = ProcessInfo.processInfo.environment

        let broker = try DevProcess(
            name: "broker", executable: helpdesk, arguments: ["broker", "--partitions", String(partitions), "--brokers", String(brokers)],
            environment: environment, colour: output.colour(0), output: output, capturesFirstLine: true, acceptsInput: true)
        let services = LockedValue([DevProcess]())
        let signalled = LockedValue(false)
        let stopping = Task {
            _ = await Signals.first(of: [SIGINT, SIGTERM])
            signalled.update { $0 = true }
        }
        func stopAll() async -> Bool {
            output.write("helpdesk dev: stopping…")
            // Services first, all at once, while the broker still runs so they can commit and leave.
            let clean = await withTaskGroup(of: Bool.self) { group in
                for service in services.value { group.addTask { await service.stop() == 0 } }
                return await group.reduce(true) { $0 && $1 }
            }
            _ = await broker.stop(grace: .seconds(5))
            if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
            return clean
        }

        let instances: [DevPlan.Instance]
        let bootstrap: String
        do {
            bootstrap = try await waitFor("the broker's address", seconds: 30, signalled: signalled) { broker.firstOutputLine }
            if let bootstrapFile { try (bootstrap + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8) }
            var overrides = environment["LOG_LEVEL"].map { ["LOG_LEVEL": $0] } ?? [:]
            overrides.merge(try settings()) { _, set in set }
            instances = plan.instances(bootstrap: bootstrap, scale: try scaleCounts(), portOffset: portOffset, overrides: overrides)
            for instance in instances {
                let executable = binaries.appendingPathComponent(instance.service).path
                guard FileManager.default.isExecutableFile(atPath: executable) else {
                    throw CLIError("\(executable) is missing: build it first (swift build)")
                }
            }
            let started = try instances.indices.map {
                try Self.launch(instances[$0], index: $0, binaries: binaries, environment: environment, output: output)
            }
            services.update { $0 = started }
            // Every instance is polled until ready; each one's time from start to ready is reported.
            let launched = ContinuousClock.now
            var pending = Array(zip(instances, services.value).filter { $0.0.port != nil })
            let readyBy = launched + .seconds(readyTimeout)
            while !pending.isEmpty {
                if signalled.value { throw CancellationError() }
                guard ContinuousClock.now < readyBy else {
                    throw CLIError("timed out after \(readyTimeout) s waiting for \(pending.map(\.0.name).joined(separator: ", ")) to be ready")
                }
                for (instance, process) in pending {
                    guard process.isRunning else {
                        throw CLIError("\(instance.name) exited with status \(process.process.terminationStatus) before it was ready")
                    }
                    if LocalHTTP.status(port: instance.port!, path: "/readyz") == 200 {
                        let elapsed = ContinuousClock.now - launched
                        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                        output.write("helpdesk dev: \(instance.name) ready after \(String(format: "%.1f", seconds)) s")
                        pending.removeAll { $0.0.name == instance.name }
                    }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            let clean = await stopAll()
            if error is CancellationError { throw clean ? ExitCode.success : ExitCode(1) }
            throw error
        }

        print(banner(bootstrap: bootstrap, instances: instances, helpdesk: helpdesk))
        fflush(nil)
        if demo {
            let send = try DevProcess(
                name: "demo", executable: helpdesk, arguments: ["send", demoFile, "--bootstrap-servers", bootstrap],
                environment: environment, colour: nil, output: output)
            let status = await send.exitStatus(within: .seconds(60))
            if status != 0 { output.write("helpdesk dev: sending \(demoFile) failed (\(status.map { "status \($0)" } ?? "no answer in 60 s"))") }
        }
        // Fault injection from our standard input: `down N` / `up N` go to the broker.
        Thread {
            while let line = readLine() {
                let words = line.split(separator: " ")
                guard words.count == 2, ["down", "up"].contains(words[0]), Int32(words[1]) != nil else {
                    if !line.isEmpty { output.write("helpdesk dev: commands are `down N` and `up N` (a broker of the embedded cluster)") }
                    continue
                }
                broker.send(line: line)
            }
        }.start()
        let planned = instances
        let watchdog = Task {
            // Like compose's `restart: unless-stopped`: a service that dies is started again.
            while !Task.isCancelled {
                for (index, service) in services.value.enumerated() where !service.isRunning && !signalled.value {
                    output.write("helpdesk dev: \(service.name) exited with status \(service.process.terminationStatus); restarting it")
                    do {
                        let restarted = try Self.launch(planned[index], index: index, binaries: binaries, environment: environment, output: output)
                        services.update { $0[index] = restarted }
                    } catch {
                        output.write("helpdesk dev: cannot restart \(service.name): \(error)")
                    }
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        await stopping.value
        // A restart in progress finishes first, so the instance it starts is stopped too.
        watchdog.cancel()
        await watchdog.value
        if !(await stopAll()) { throw ExitCode(1) }
    }

    /// Starts instance `index` of the plan (again, after it died).
    private static func launch(
        _ instance: DevPlan.Instance, index: Int, binaries: URL, environment: [String: String], output: DevOutput
    ) throws -> DevProcess {
        try DevProcess(
            name: instance.name, executable: binaries.appendingPathComponent(instance.service).path, arguments: [],
            environment: environment.merging(instance.environment) { _, planned in planned },
            colour: output.colour(index + 1), output: output)
    }

    /// Polls until `value` gives something (nil: not yet), Ctrl-C, or the timeout.
    private func waitFor<T>(_ what: String, seconds: Int, signalled: LockedValue<Bool>, _ value: () -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let value = value() { return value }
            if signalled.value { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIError("timed out after \(seconds) s waiting for \(what)")
    }

    private func banner(bootstrap: String, instances: [DevPlan.Instance], helpdesk: String) -> String {
        func first(_ service: String) -> DevPlan.Instance? { instances.first { $0.service == service } }
        var lines = ["", "HelpdeskSLA is running (Ctrl-C stops everything).",
                     "  Kafka (embedded broker): \(bootstrap)"]
        if let intake = first("intake"), let port = intake.port {
            lines.append("  intake API:              http://127.0.0.1:\(port)/v1/tickets  (OpenAPI at /openapi.yaml)")
            lines.append("  intake API keys:         \(intake.environment["INTAKE_API_KEYS"] ?? "none")  (source=key)")
        }
        if let escalation = first("escalation"), let port = escalation.port {
            lines.append("  escalation API:          http://127.0.0.1:\(port)/v1/escalations/{ticketId}")
            lines.append("  escalation tokens:       \(escalation.environment["ESCALATION_TOKENS"] ?? "none")  (token=role:name)")
        }
        if let timer = first("sla-timer"), let port = timer.port {
            lines.append("  a ticket's clock:        http://127.0.0.1:\(port)/v1/sla/{ticketId}  or  \(helpdesk) sla status crm/DEMO-1")
        }
        lines.append("  metrics:")
        for instance in instances {
            if let port = instance.port { lines.append("    \(instance.name.padding(toLength: 14, withPad: " ", startingAt: 0)) http://127.0.0.1:\(port)/metrics") }
        }
        lines.append("  watch:                   \(helpdesk) watch --bootstrap-servers \(bootstrap)")
        lines.append("  tail:                    \(helpdesk) tail sla.events escalation.events --bootstrap-servers \(bootstrap)")
        return lines.joined(separator: "\n")
    }
}
