import Foundation
import Synchronization

/// A child process whose standard output is collected line by line.
final class ChildProcess: @unchecked Sendable {
    let process: Process
    private let stdin: Pipe?
    private let lines = LineBuffer()
    private let reader: Thread

    /// `mergeStandardError` puts the process's standard error lines into `output` too.
    init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: Pipe? = nil,
        mergeStandardError: Bool = false
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        // PROCESS_TEST_LOGS=DIR keeps each child's standard error for debugging.
        if mergeStandardError {
            process.standardError = output
        } else if let directory = ProcessInfo.processInfo.environment["PROCESS_TEST_LOGS"] {
            let path = "\(directory)/\(URL(fileURLWithPath: executable).lastPathComponent)-\(UUID().uuidString.prefix(8)).log"
            FileManager.default.createFile(atPath: path, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: path)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        if let stdin { process.standardInput = stdin }
        self.stdin = stdin
        try process.run()
        self.process = process
        let lines = self.lines
        reader = Thread {
            var pending = Data()
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    lines.append(line)
                }
            }
        }
        reader.start()
    }

    var output: [String] { lines.all }

    /// Writes a line to the process's standard input (when it was given a pipe).
    func send(line: String) {
        try? stdin?.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// A test that fails half-way must not leave its processes running.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status.
    func terminate() async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        return await exitStatus()
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and waits for it to be gone.
    func killHard() async {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = await exitStatus()
    }

    func exitStatus() async -> Int32 {
        let process = self.process
        return await blocking {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}

enum Binaries {
    /// The directory the test bundle was built into; `helpdesk` is built next to it.
    static var productsDirectory: URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        if directory.pathExtension == "xctest" { directory = directory.deletingLastPathComponent() }
        return directory
    }

    static func path(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

struct Timeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls a condition until it holds or the deadline passes (a guard against hangs).
func waitFor(_ what: String, seconds: Double = 60, _ condition: () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while await !condition() {
        guard ContinuousClock.now < deadline else { throw Timeout(what: what) }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Checks `condition` once a second until it holds or `seconds` have passed, and returns either
/// way: what is still missing then is for the assertions after it to name.
func settle(within seconds: Double, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .seconds(1))
    }
}

final class LineBuffer: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A TCP port that was free a moment ago (the kernel picks it).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// GET on localhost; nil when nothing answers.
func httpGet(_ port: Int, _ path: String) async -> (status: Int, body: String)? {
    await httpRequest(port, "GET", path)
}

/// Runs blocking work (a child process run to its end) on a dispatch thread: blocked on the
/// cooperative pool, it would hold one of its few threads while other suites' loops wait.
func blocking<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    try await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, E>, Never>) in
        DispatchQueue.global().async { continuation.resume(returning: Result(catching: body)) }
    }.get()
}

/// A body for curl's `--data-binary`: itself, or `@file` when too long for one argument
/// (Linux limits each to 128 KiB).
private func argument(forBody body: String) -> String {
    guard body.utf8.count > 64 * 1024 else { return body }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("body-\(UUID()).json").path
    FileManager.default.createFile(atPath: path, contents: Data(body.utf8))
    return "@" + path
}

/// An HTTP request to localhost with curl; nil when nothing answers.
func httpRequest(_ port: Int, _ method: String, _ path: String, token: String? = nil, body: String? = nil) async -> (status: Int, body: String)? {
    await blocking { curl(port, method, path, token: token, body: body).map { (status: $0.0, body: $0.1) } }
}

private func curl(_ port: Int, _ method: String, _ path: String, token: String?, body: String?) -> (Int, String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5", "-X", method]
        + (token.map { ["-H", "Authorization: Bearer \($0)"] } ?? [])
        + (body.map { ["-H", "Content-Type: application/json", "--data-binary", argument(forBody: $0)] } ?? [])
        + ["http://127.0.0.1:\(port)\(path)"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard let split = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: split)...]), status > 0 else { return nil }
    return (status, String(text[..<split]))
}

/// Publishes lines `key|value` with kcat, partitioned as the services partition.
func kcatProduce(bootstrap: String, topic: String, lines: [String], partition: Int? = nil) async throws -> Int32 {
    try await blocking { try kcat(bootstrap: bootstrap, topic: topic, lines: lines, partition: partition) }
}

private func kcat(bootstrap: String, topic: String, lines: [String], partition: Int?) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Binaries.which("kcat")!)
    process.arguments = ["-P", "-b", bootstrap, "-t", topic, "-K", "|", "-X", "partitioner=murmur2_random"]
        + (partition.map { ["-p", String($0)] } ?? [])
    let input = Pipe()
    process.standardInput = input
    try process.run()
    input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    return process.terminationStatus
}

/// Runs `helpdesk` to completion: its exit status, standard output and standard error.
/// `unset` names environment variables the run must not inherit.
func runHelpdesk(_ arguments: [String], stdin: String = "", unset: [String] = []) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await blocking { try helpdesk(arguments, stdin: stdin, unset: unset) }
}

private func helpdesk(_ arguments: [String], stdin: String, unset: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Binaries.path("helpdesk"))
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.filter { !unset.contains($0.key) }
    let input = Pipe()
    let out = Pipe()
    let err = Pipe()
    process.standardInput = input
    process.standardOutput = out
    process.standardError = err
    try process.run()
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// A sample's value from a Prometheus text exposition (`name{labels} value`), if present.
func metricValue(_ exposition: String, _ series: String) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}
