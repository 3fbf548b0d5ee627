import Foundation
import Subprocess
import SystemPackage

/// A child process of `helpdesk dev`, run by swift-subprocess: its output lines (standard
/// output and error together) go to our standard error, each prefixed with its name (in colour
/// on a terminal). It runs in its own process group, so a Ctrl-C on the terminal reaches
/// `helpdesk dev` alone, which then stops the children in order: services first, the broker
/// last. Stopping cancels the run, whose teardown is SIGTERM, the grace period, then SIGKILL.
final class DevProcess: @unchecked Sendable {
    let name: String
    /// The run: ends with the exit status once the process has exited.
    private var run: Task<Int32, Never>!
    /// The exit status once the process has exited.
    private let exited = LockedValue<Int32?>(nil)
    /// Lines for its standard input, when it accepts input (the broker takes fault-injection commands).
    private let input: AsyncStream<String>.Continuation?
    private let firstLine = LockedValue<String?>(nil)

    init(
        name: String, executable: String, arguments: [String], environment: [String: String], colour: Int?, output: DevOutput,
        capturesFirstLine: Bool = false, acceptsInput: Bool = false, grace: Duration = .seconds(20)
    ) throws {
        self.name = name
        let (lines, input) = AsyncStream<String>.makeStream()
        self.input = acceptsInput ? input : nil
        if !acceptsInput { input.finish() }
        let prefix = colour.map { "\u{1B}[\($0)m[\(name)]\u{1B}[0m " } ?? "[\(name)] "
        let firstLine = capturesFirstLine ? self.firstLine : nil
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: grace)]
        let exited = self.exited
        let configuration = Configuration(
            executable: .path(FilePath(executable)), arguments: Arguments(arguments),
            environment: .custom(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(rawValue: $0.key)!, $0.value) })),
            platformOptions: options)
        run = Task {
            let status: Int32
            do {
                let result = try await Subprocess.run(configuration, input: .inputWriter, output: .sequence, error: .combinedWithOutput) {
                    execution in
                    async let echoed: Void = {
                        for try await line in execution.standardOutput.strings() {
                            let line = line.hasSuffix("\n") ? String(line.dropLast()) : line
                            if let firstLine, firstLine.update({ if $0 == nil { $0 = line; return true }; return false }) { continue }
                            output.write(prefix + line)
                        }
                    }()
                    for await line in lines { _ = try? await execution.standardInputWriter.write(line + "\n") }
                    try? await execution.standardInputWriter.finish()
                    try await echoed
                }
                switch result.terminationStatus {
                case .exited(let code): status = code
                case .signaled(let signal): status = signal
                }
            } catch {
                output.write(prefix + "cannot run \(executable): \(error)")
                status = 127
            }
            exited.update { $0 = status }
            input.finish()
            return status
        }
    }

    /// The first line the process printed (the broker's bootstrap address), once there is one,
    /// when it `capturesFirstLine`; that line is not echoed.
    var firstOutputLine: String? { firstLine.value }

    var isRunning: Bool { exited.value == nil }

    /// Its exit status, once it has exited.
    var exitStatus: Int32? { exited.value }

    /// Writes a line to its standard input, if it has one.
    func send(line: String) {
        input?.yield(line)
    }

    /// Waits up to `limit` for the process to exit: its status, or nil if it still runs.
    func exitStatus(within limit: Duration) async -> Int32? {
        let run = self.run!
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await run.value }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }

    /// SIGTERM, then up to `grace` to exit, then SIGKILL (the run's teardown). Returns the exit status.
    func stop() async -> Int32 {
        run.cancel()
        return await run.value
    }
}

/// Where the children's lines go: one writer at a time, so lines never interleave.
final class DevOutput: Sendable {
    private let lock = NSLock()
    let colours: Bool

    init() {
        colours = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    func write(_ line: String) {
        lock.withLock { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// A distinct ANSI colour per index, when colours are on.
    func colour(_ index: Int) -> Int? {
        colours ? [36, 33, 32, 35, 34, 31, 96, 93, 92, 95][index % 10] : nil
    }
}

final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    @discardableResult
    func update<Result>(_ change: (inout Value) -> Result) -> Result { lock.withLock { change(&stored) } }
}
