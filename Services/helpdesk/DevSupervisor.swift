import Foundation

/// The service instances `helpdesk dev` runs: started, restarted when one dies (as compose's
/// `restart: unless-stopped` would), scaled up and down while the stack runs (as
/// `docker compose up --scale` would), and stopped.
final class DevSupervisor: Sendable {
    struct Running {
        let instance: DevPlan.Instance
        let process: DevProcess
    }

    private let plan: DevPlan
    private let bootstrap: String
    private let portOffset: Int
    private let overrides: [String: String]
    private let binaries: URL
    private let environment: [String: String]
    private let output: DevOutput
    private let running = LockedValue([Running]())
    /// Set once stopping begins: nothing is started or restarted after it.
    private let stopped = LockedValue(false)

    init(plan: DevPlan, bootstrap: String, portOffset: Int, overrides: [String: String], binaries: URL,
         environment: [String: String], output: DevOutput) {
        self.plan = plan
        self.bootstrap = bootstrap
        self.portOffset = portOffset
        self.overrides = overrides
        self.binaries = binaries
        self.environment = environment
        self.output = output
    }

    func start(_ instances: [DevPlan.Instance]) throws {
        for instance in instances {
            let executable = binaries.appendingPathComponent(instance.service).path
            guard FileManager.default.isExecutableFile(atPath: executable) else {
                throw CLIError("\(executable) is missing: build it first (swift build)")
            }
        }
        for instance in instances { try launch(instance) }
    }

    /// Polls each instance's `/readyz` until it answers 200 and reports how long it took.
    /// Throws when one exits first or when `timeout` passes.
    func waitUntilReady(_ instances: [DevPlan.Instance], timeout: Duration, interrupted: () -> Bool) async throws {
        let launched = ContinuousClock.now
        var pending = instances.filter { $0.port != nil }
        while !pending.isEmpty {
            if interrupted() { throw CancellationError() }
            guard ContinuousClock.now < launched + timeout else {
                throw CLIError("timed out after \(timeout) waiting for \(pending.map(\.name).joined(separator: ", ")) to be ready")
            }
            for instance in pending {
                guard let process = running.value.first(where: { $0.instance == instance })?.process else {
                    pending.removeAll { $0 == instance }  // scaled away meanwhile
                    continue
                }
                guard process.isRunning else {
                    throw CLIError("\(instance.name) exited with status \(process.exitStatus.map(String.init) ?? "?") before it was ready")
                }
                if LoopbackHTTP.status(port: instance.port!, path: "/readyz") == 200 {
                    let elapsed = ContinuousClock.now - launched
                    let seconds = elapsed.timeInterval
                    output.write("helpdesk dev: \(instance.name) ready after \(String(format: "%.1f", seconds)) s")
                    pending.removeAll { $0 == instance }
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Starts again every instance that died.
    func restartDead() {
        for dead in running.value where !dead.process.isRunning {
            guard !stopped.value else { return }
            output.write("helpdesk dev: \(dead.instance.name) exited with status \(dead.process.exitStatus.map(String.init) ?? "?"); restarting it")
            do {
                try launch(dead.instance, replacing: dead.process)
            } catch {
                output.write("helpdesk dev: cannot restart \(dead.instance.name): \(error)")
            }
        }
    }

    /// Runs `count` instances of `service`: new ones are started with the next indices (and so
    /// their own ports and member ids); the highest are stopped gracefully.
    func scale(_ service: String, to count: Int) async {
        let current = running.value.filter { $0.instance.service == service }.sorted { $0.instance.index < $1.instance.index }
        if count > current.count {
            var started = [DevPlan.Instance]()
            for index in current.count + 1...count {
                guard let instance = plan.instance(of: service, index: index, named: true, bootstrap: bootstrap,
                                                   portOffset: portOffset, overrides: overrides) else { return }
                do {
                    try launch(instance)
                    started.append(instance)
                } catch {
                    output.write("helpdesk dev: cannot start \(instance.name): \(error)")
                }
            }
            output.write("helpdesk dev: \(service) scaled to \(count)")
            // Readiness is reported as it comes; the next command need not wait for it.
            Task {
                do {
                    try await waitUntilReady(started, timeout: .seconds(120)) { stopped.value }
                } catch {
                    output.write("helpdesk dev: \(error)")
                }
            }
        } else if count < current.count {
            let leaving = Array(current[count...])
            // Out of the list first, so that they are not restarted once they exit.
            running.update { all in all.removeAll { entry in leaving.contains { $0.process === entry.process } } }
            await withTaskGroup(of: Void.self) { group in
                for entry in leaving {
                    group.addTask {
                        let status = await entry.process.stop()
                        self.output.write("helpdesk dev: \(entry.instance.name) stopped (status \(status))")
                    }
                }
            }
            output.write("helpdesk dev: \(service) scaled to \(count)")
        }
    }

    /// Stops every instance at once (SIGTERM, then SIGKILL after the grace period); true when
    /// every one exited cleanly.
    func stopAll() async -> Bool {
        stopped.update { $0 = true }
        var clean = true
        var done = [DevProcess]()
        // Again until none is left: an instance a scale-up was starting meanwhile is stopped too.
        while case let left = running.value.filter({ entry in !done.contains { $0 === entry.process } }), !left.isEmpty {
            clean = await withTaskGroup(of: Bool.self) { group in
                for entry in left { group.addTask { await entry.process.stop() == 0 } }
                return await group.reduce(clean) { $0 && $1 }
            }
            done += left.map(\.process)
        }
        return clean
    }

    private func launch(_ instance: DevPlan.Instance, replacing previous: DevProcess? = nil) throws {
        let colourIndex = (DevPlan.services.firstIndex(of: instance.service) ?? 0) * 3 + instance.index
        let process = try DevProcess(
            name: instance.name, executable: binaries.appendingPathComponent(instance.service).path, arguments: [],
            environment: environment.merging(instance.environment) { _, planned in planned },
            colour: output.colour(colourIndex), output: output)
        let kept = running.update { all -> Bool in
            guard let previous else {
                all.append(Running(instance: instance, process: process))
                return true
            }
            guard let slot = all.firstIndex(where: { $0.process === previous }) else { return false }
            all[slot] = Running(instance: instance, process: process)
            return true
        }
        // The instance was scaled away while it was being restarted.
        if !kept { Task { _ = await process.stop() } }
    }
}
