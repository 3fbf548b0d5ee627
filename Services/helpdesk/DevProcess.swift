import Foundation

/// A child process of `helpdesk dev`: its output lines go to our standard error, each
/// prefixed with its name (in colour on a terminal). Foundation starts it in its own process
/// group, so a Ctrl-C on the terminal reaches `helpdesk dev` alone, which then stops the
/// children in order: services first, the broker last.
final class DevProcess: @unchecked Sendable {
    let name: String
    let process = Process()
    /// Its standard input, when it accepts input (the broker takes fault-injection commands).
    private let input: FileHandle?
    private let firstLine = LockedValue<String?>(nil)

    init(
        name: String, executable: String, arguments: [String], environment: [String: String], colour: Int?, output: DevOutput,
        capturesFirstLine: Bool = false, acceptsInput: Bool = false
    ) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if acceptsInput {
            let input = Pipe()
            process.standardInput = input
            self.input = input.fileHandleForWriting
        } else {
            process.standardInput = FileHandle.nullDevice
            self.input = nil
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let prefix = colour.map { "\u{1B}[\($0)m[\(name)]\u{1B}[0m " } ?? "[\(name)] "
        let firstLine = capturesFirstLine ? self.firstLine : nil
        Thread {
            var pending = Data()
            let handle = pipe.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    if let firstLine, firstLine.update({ if $0 == nil { $0 = line; return true }; return false }) { continue }
                    output.write(prefix + line)
                }
            }
        }.start()
    }

    /// The first line the process printed (the broker's bootstrap address), once there is one,
    /// when it `capturesFirstLine`; that line is not echoed.
    var firstOutputLine: String? { firstLine.value }

    var isRunning: Bool { process.isRunning }

    /// Writes a line to its standard input, if it has one.
    func send(line: String) {
        try? input?.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Waits up to `limit` for the process to exit: its status, or nil if it still runs.
    func exitStatus(within limit: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGTERM, then up to `grace` to exit, then SIGKILL. Returns the exit status.
    func stop(grace: Duration = .seconds(20)) async -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        if let status = await exitStatus(within: grace) { return status }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationStatus
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

/// `GET` on localhost with a short timeout: the status code, or nil when nothing answers.
enum LocalHTTP {
    static func status(port: Int, path: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        guard request.withCString({ send(fd, $0, strlen($0), 0) }) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 12 else { return nil }
        // "HTTP/1.1 200 OK"
        return Int(String(decoding: buffer[9..<12], as: UTF8.self))
    }
}
