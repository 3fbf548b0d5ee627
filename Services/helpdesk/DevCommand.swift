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
            A service that exits is started again. Lines on its standard input: `scale SERVICE N` runs N instances of a
            service (new ones are started, the highest-numbered stopped gracefully), and `down N` / `up N` take a broker
            of the embedded cluster down and up.
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

    @Option(help: ArgumentHelp(
        "Deliver the notifier's e-mail through this SMTP server (smtp://host:port) with compose's routes file.",
        discussion: "Without it, every notification is written to the notifier's log."))
    var smtp: String?

    @Option(help: "Seconds to wait for every service to be ready.")
    var readyTimeout = 120

    @Option(help: ArgumentHelp(
        "Where the history service keeps its SQLite store (history.sqlite).",
        discussion: "Kept across runs; delete the folder for a store that starts empty."))
    var dataDir = ".helpdesk/dev"

    func validate() throws {
        _ = try scaleCounts()
        _ = try settings()
        guard (0...50_000).contains(portOffset) else { throw ValidationError("--port-offset must be between 0 and 50000") }
        if let smtp, !(smtp.hasPrefix("smtp://") || smtp.hasPrefix("smtps://")) {
            throw ValidationError("--smtp takes an smtp:// or smtps:// URL, not \"\(smtp)\"")
        }
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
            environment: environment, colour: output.colour(0), output: output, capturesFirstLine: true, acceptsInput: true,
            grace: .seconds(5))
        let supervisor = LockedValue<DevSupervisor?>(nil)
        let signalled = LockedValue(false)
        let stopping = Task {
            _ = await waitForInterrupt()
            signalled.update { $0 = true }
        }
        func stopAll() async -> Bool {
            output.write("helpdesk dev: stopping…")
            // Services first, all at once, while the broker still runs so they can commit and leave.
            let clean = await supervisor.value?.stopAll() ?? true
            _ = await broker.stop()
            if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
            return clean
        }

        let instances: [DevPlan.Instance]
        let bootstrap: String
        do {
            bootstrap = try await waitFor("the broker's address", seconds: 30, signalled: signalled) { broker.firstOutputLine }
            if let bootstrapFile { try (bootstrap + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8) }
            var overrides = environment["LOG_LEVEL"].map { ["LOG_LEVEL": $0] } ?? [:]
            // The embedded broker holds every fetch that finds no data for the whole wait, even
            // when data arrives meanwhile (a real broker answers then): keep the wait short so a
            // record waits ~5 ms per hop rather than up to the services' 100 ms default. Not
            // shorter: each fetch walks the partition's message sets there, and at 2–5 ms the
            // fetches of a long run took the CPU the sla-timer needs to fire thousands of
            // deadlines due at the same second within 1 s.
            overrides["KAFKA_FETCH_WAIT_MAX_MS"] = environment["KAFKA_FETCH_WAIT_MAX_MS"] ?? Self.embeddedBrokerFetchWait
            // The notifier: compose's routes and SMTP server with --smtp; otherwise every
            // notification to its log (empty settings read as unset).
            if let smtp {
                overrides["NOTIFIER_SMTP_URL"] = smtp
            } else {
                overrides["NOTIFIER_SMTP_URL"] = ""
                overrides["NOTIFIER_ROUTES_FILE"] = ""
            }
            // The history store: SQLite in the data folder, where compose runs PostgreSQL.
            let dataFolder = URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL.path
            overrides["HISTORY_DATABASE_URL"] = "sqlite:\(dataFolder)/history.sqlite"
            overrides.merge(try settings()) { _, set in set }
            instances = plan.instances(bootstrap: bootstrap, scale: try scaleCounts(), portOffset: portOffset, overrides: overrides)
            let services = DevSupervisor(plan: plan, bootstrap: bootstrap, portOffset: portOffset, overrides: overrides,
                                         binaries: binaries, environment: environment, output: output)
            supervisor.update { $0 = services }
            try services.start(instances)
            try await services.waitUntilReady(instances, timeout: .seconds(readyTimeout)) { signalled.value }
        } catch {
            let clean = await stopAll()
            if error is CancellationError { throw clean ? ExitCode.success : ExitCode(1) }
            throw error
        }
        let services = supervisor.value!

        print(banner(bootstrap: bootstrap, instances: instances, helpdesk: helpdesk))
        fflush(nil)
        if demo {
            let send = try DevProcess(
                name: "demo", executable: helpdesk, arguments: ["send", demoFile, "--bootstrap-servers", bootstrap],
                environment: environment, colour: nil, output: output)
            let status = await send.exitStatus(within: .seconds(60))
            if status != 0 { output.write("helpdesk dev: sending \(demoFile) failed (\(status.map { "status \($0)" } ?? "no answer in 60 s"))") }
        }
        // Commands on our standard input: `down N` / `up N` go to the broker; `scale SERVICE N`
        // changes how many instances of a service run. Scaling is done one command at a time.
        let (scaling, scaleRequests) = AsyncStream.makeStream(of: (service: String, count: Int).self)
        Thread {
            while let line = readLine() {
                switch DevInput(line) {
                case .broker: broker.send(line: line)
                case .scale(let service, let count): scaleRequests.yield((service, count))
                case .unknown:
                    if !line.isEmpty { output.write("helpdesk dev: commands are `down N` / `up N` (a broker of the embedded cluster) and `scale SERVICE N`") }
                }
            }
        }.start()
        let scaler = Task {
            for await request in scaling { await services.scale(request.service, to: request.count) }
        }
        let watchdog = Task {
            while !Task.isCancelled {
                services.restartDead()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        await stopping.value
        // A restart in progress finishes first, so the instance it starts is stopped too.
        watchdog.cancel()
        await watchdog.value
        scaler.cancel()
        if !(await stopAll()) { throw ExitCode(1) }
    }

    static let embeddedBrokerFetchWait = "10"

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
        var lines = ["", "HelpdeskSLA is running (Ctrl-C stops everything)."]
        if let history = first("history"), let port = history.port {
            lines.append("  web console:             http://127.0.0.1:\(port)/console  (sign in with an escalation token, "
                + "or a history token to read)")
        }
        lines.append("  Kafka (embedded broker): \(bootstrap)")
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
            lines.append("  sla reader tokens:       \(timer.environment["SLA_API_TOKENS"] ?? "none")  (name=token)")
        }
        if let history = first("history"), let port = history.port {
            lines.append("  history API:             http://127.0.0.1:\(port)/v1/tickets/{ticketId}, /v1/open-tickets, /v1/reports/attainment, /v1/reports/forecast")
            lines.append("  history tokens:          \(history.environment["HISTORY_API_TOKENS"] ?? "none")  (name=token)")
            lines.append("  reports:                 \(helpdesk) report attainment|forecast --from 2026-11-01 --to 2026-11-30 "
                + "--database \(history.environment["HISTORY_DATABASE_URL"] ?? "")")
        }
        if first("notifier") != nil {
            lines.append("  notifications:           "
                + (smtp.map { "e-mailed through \($0) per compose/config/notifier-routes.yaml, and in the notifier's log" }
                    ?? "in the notifier's log (lines \"[notifier] … notification\"); --smtp URL e-mails them"))
            lines.append("  deliveries:              \(helpdesk) tail notifications.delivered notifications.failed --bootstrap-servers \(bootstrap)")
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

/// A line of `helpdesk dev`'s standard input.
enum DevInput: Equatable {
    case broker
    case scale(service: String, count: Int)
    case unknown

    init(_ line: String) {
        let words = line.split(separator: " ")
        if words.count == 2, ["down", "up"].contains(words[0]), Int32(words[1]) != nil {
            self = .broker
        } else if words.count == 3, words[0] == "scale", DevPlan.services.contains(String(words[1])),
                  let count = Int(words[2]), (0...9).contains(count) {
            self = .scale(service: String(words[1]), count: count)
        } else {
            self = .unknown
        }
    }
}
