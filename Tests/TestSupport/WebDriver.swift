import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A WebDriver failure: the W3C error code (`no such element`, `javascript error`, `timeout`...)
/// and chromedriver's message, prefixed with the request that failed.
public struct WebDriverError: Error, CustomStringConvertible {
    public let error: String
    public let message: String
    public init(error: String, message: String) { self.error = error; self.message = message }
    public var description: String { "WebDriver \(error): \(message)" }
}

/// A JSON value sent to or returned by the browser: script arguments and results.
public enum WebValue: Sendable, Equatable, Codable, ExpressibleByStringInterpolation, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case null, bool(Bool), number(Double), string(String), array([WebValue]), object([String: WebValue])

    public var string: String? { if case .string(let value) = self { value } else { nil } }
    public var number: Double? { if case .number(let value) = self { value } else { nil } }
    public var int: Int? { number.map { Int($0) } }
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    public var array: [WebValue]? { if case .array(let value) = self { value } else { nil } }
    public var isNull: Bool { self == .null }
    public subscript(key: String) -> WebValue? { if case .object(let value) = self { value[key] } else { nil } }

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: WebValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, WebValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([WebValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: WebValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value) where value == value.rounded() && abs(value) < 1e15: try container.encode(Int64(value))
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// WebDriver's HTTP protocol: JSON in, `{"value": ...}` out, errors as `{"value": {"error", "message"}}`.
/// A plain HTTP/1.1 socket on a Dispatch thread, not URLSession: swift-corelibs-foundation up to 6.3 fails
/// ("Failed writing header") on chromedriver's headers, which have no space after the colon (`Content-Length:251`).
struct WebDriverHTTP: Sendable {
    let port: Int
    let prefix: String

    func call(_ method: String, _ path: String = "", _ body: WebValue? = nil) async throws -> WebValue {
        let payload = method == "POST" ? try JSONEncoder().encode(body ?? [:]) : Data()
        let (status, data) = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.exchange(port, method, prefix + path, payload) })
            }
        }
        let value = (try? JSONDecoder().decode(WebValue.self, from: data))?["value"] ?? .null
        guard status == 200 else {
            let message = value["message"]?.string?.split(separator: "\n").filter { !$0.contains("(Session info:") }
                .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            throw WebDriverError(error: value["error"]?.string ?? "HTTP \(status)",
                message: "\(method) \(path): " + (message ?? String(decoding: data.prefix(500), as: UTF8.self)))
        }
        return value
    }

    /// One request on a new connection, read up to its Content-Length (chromedriver keeps the socket open).
    private static func exchange(_ port: Int, _ method: String, _ path: String, _ body: Data) throws -> (Int, Data) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw WebDriverError(error: "socket", message: "errno \(errno)") }
        defer { _ = Glibc.close(fd) }
        var timeout = timeval(tv_sec: 150, tv_usec: 0)  // beyond chromedriver's own script and page timeouts
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw WebDriverError(error: "connect", message: "127.0.0.1:\(port): errno \(errno)") }
        let request = Data(("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
            + "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(body.count)\r\n\r\n").utf8) + body
        try request.withUnsafeBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let count = send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                guard count > 0 else { throw WebDriverError(error: "send", message: "\(method) \(path): errno \(errno)") }
                sent += count
            }
        }
        var response = Data(), buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = response.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: response[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
                let length = head.dropFirst().first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) }
                if let length, response.count - end.upperBound >= length {
                    let status = head.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                    return (status, Data(response[end.upperBound..<end.upperBound + length]))
                }
            }
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { throw WebDriverError(error: "recv", message: "\(method) \(path): errno \(errno)") }
            response.append(contentsOf: buffer[..<count])
        }
    }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A value behind a lock, for the little mutable state here.
private final class WebDriverLocked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

/// Debian's chromedriver on a free local port. It and every browser it starts share one process
/// group and one temporary folder; `stop()` (or deinit, or process exit) kills the group and removes the folder.
public final class Chromedriver: @unchecked Sendable {
    public let port: Int
    let http: WebDriverHTTP
    private let process = Process()
    private let folder: String
    private let stopped = WebDriverLocked(false)
    private static let running = WebDriverLocked([pid_t: String]())
    private static let cleanupAtExit: Void = { atexit { Chromedriver.killAll() } }()

    /// Starts chromedriver and waits for `GET /status` to answer ready. Its output goes to `logFile`
    /// (at log level INFO: every command) or nowhere.
    public init(executable: String = "/usr/bin/chromedriver", logFile: String? = nil,
                timeout: Duration = .seconds(20)) async throws {
        port = try Self.freePort()
        http = WebDriverHTTP(port: port, prefix: "")
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("chromedriver-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--port=\(port)"] + (logFile == nil ? [] : ["--log-level=INFO"])
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": folder]) { $1 }
        var output = FileHandle.nullDevice
        if let logFile {
            let url = URL(fileURLWithPath: logFile)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
            output = try FileHandle(forWritingTo: url)
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        _ = Self.cleanupAtExit
        try process.run()  // Foundation's Process puts the child in a process group of its own.
        Self.running.withLock { $0[process.processIdentifier] = folder }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while (try? await http.call("GET", "/status")["ready"]?.bool) != true {
            guard process.isRunning, ContinuousClock.now < deadline else {
                let why = process.isRunning ? "not ready within \(timeout)" : "exited (\(process.terminationStatus))"
                stop()
                throw WebDriverError(error: "chromedriver", message: "\(executable) --port=\(port) \(why)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    deinit { stop() }

    /// Kills chromedriver and its browsers (SIGKILL to the group), waits for them, removes the temporary folder.
    public func stop() {
        guard stopped.withLock({ stopped in defer { stopped = true }; return !stopped }) else { return }
        let pid = process.processIdentifier
        Self.kill(group: pid, folder: folder)
        if pid > 0 { process.waitUntilExit() }
        Self.running.withLock { _ = $0.removeValue(forKey: pid) }
    }

    /// A new browser: headless Chromium with the window size given and console logging on.
    public func newSession(windowSize: (width: Int, height: Int) = (1280, 900), binary: String = "/usr/bin/chromium",
                           arguments: [String] = []) async throws -> BrowserSession {
        let args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=\(windowSize.width),\(windowSize.height)"] + arguments
        let capabilities: WebValue = ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["binary": .string(binary), "args": .array(args.map(WebValue.string))],
            "goog:loggingPrefs": ["browser": "ALL"],
        ]]
        let value = try await http.call("POST", "/session", ["capabilities": capabilities])
        guard let id = value["sessionId"]?.string else {
            throw WebDriverError(error: "session not created", message: "no sessionId in \(value)")
        }
        return BrowserSession(driver: self, id: id)
    }

    private static func kill(group pid: pid_t, folder: String) {
        if pid > 0 { _ = Glibc.kill(-pid, SIGKILL) }  // never pid 0: that is our own group
        var polls = 0
        while pid > 0, polls < 250, groupAlive(pid) { usleep(20_000); polls += 1 }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Whether a process of the group still runs; zombies do not count (this VM's init reaps them a second late).
    private static func groupAlive(_ group: pid_t) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).contains { name in
            guard Int(name) != nil, let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: end)...].split(separator: " ")  // state, ppid, pgrp, ...
            return fields.count > 2 && fields[0] != "Z" && fields[2] == "\(group)"
        }
    }

    private static func killAll() {
        for (pid, folder) in running.withLock({ $0 }) { kill(group: pid, folder: folder) }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = Glibc.close(fd) }
        var address = WebDriverHTTP.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw WebDriverError(error: "chromedriver", message: "no free port (errno \(errno))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// One browser window driven through chromedriver (which it keeps alive); `close()` ends it.
public final class BrowserSession: Sendable {
    public let id: String
    public let driver: Chromedriver
    let http: WebDriverHTTP

    init(driver: Chromedriver, id: String) {
        self.driver = driver
        self.id = id
        http = WebDriverHTTP(port: driver.port, prefix: "/session/\(id)")
    }

    /// An element found by CSS selector; stale once the page replaces it.
    public struct Element: Sendable {
        public let id: String
        let http: WebDriverHTTP

        /// The value to pass it to `execute` as an argument (the script receives the DOM element).
        public var webValue: WebValue { ["element-6066-11e4-a52e-4f735466cecf": .string(id)] }
        public func click() async throws { _ = try await http.call("POST", "/click") }
        public func clear() async throws { _ = try await http.call("POST", "/clear") }
        public func type(_ text: String) async throws {
            _ = try await http.call("POST", "/value", ["text": .string(text)])
        }
        public func text() async throws -> String { try await http.call("GET", "/text").string ?? "" }
        /// The HTML attribute as the page has it now (`class`, `data-state`...), nil when absent. An input's
        /// `value` attribute stays the initial one: for what was typed, use `property("value")`.
        public func attribute(_ name: String) async throws -> String? {
            try await http.call("GET", "/attribute/\(name)").string
        }
        /// The DOM property (`value`, `checked`...).
        public func property(_ name: String) async throws -> WebValue {
            try await http.call("GET", "/property/\(name)")
        }
        public var isDisplayed: Bool { get async throws { try await http.call("GET", "/displayed").bool ?? false } }
    }

    /// A browser console message: level (`SEVERE`, `WARNING`, `INFO`...), source (`console-api`,
    /// `javascript`, `network`...) and text (`<url> <line>:<column> "<message>"` for console calls).
    public struct ConsoleEntry: Sendable {
        public let level: String
        public let source: String
        public let message: String
    }

    public func navigate(_ url: String) async throws { _ = try await http.call("POST", "/url", ["url": .string(url)]) }
    public func currentURL() async throws -> String { try await http.call("GET", "/url").string ?? "" }
    public func title() async throws -> String { try await http.call("GET", "/title").string ?? "" }

    /// The first element matching the selector, or nil.
    public func find(_ css: String) async throws -> Element? {
        do {
            return element(try await http.call("POST", "/element", ["using": "css selector", "value": .string(css)]))
        } catch let error as WebDriverError where error.error == "no such element" {
            return nil
        }
    }

    public func findAll(_ css: String) async throws -> [Element] {
        let value = try await http.call("POST", "/elements", ["using": "css selector", "value": .string(css)])
        return (value.array ?? []).compactMap(element)
    }

    /// Runs a script's body synchronously (`return ...` gives the result; `arguments[i]` are the args).
    @discardableResult
    public func execute(_ script: String, _ args: [WebValue] = []) async throws -> WebValue {
        try await http.call("POST", "/execute/sync", ["script": .string(script), "args": .array(args)])
    }

    /// Saves the viewport as a PNG, creating the folder.
    public func screenshot(to path: String) async throws {
        let encoded = try await http.call("GET", "/screenshot").string ?? ""
        guard let data = Data(base64Encoded: encoded) else {
            throw WebDriverError(error: "screenshot", message: "not base64 (\(encoded.prefix(80)))")
        }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    /// The browser's console messages since the last call (of this or `consoleErrors`): reading empties the log.
    public func consoleEntries() async throws -> [ConsoleEntry] {
        let value = try await http.call("POST", "/se/log", ["type": "browser"])
        return (value.array ?? []).map { entry in
            let field = { (key: String) in entry[key]?.string ?? "" }
            return ConsoleEntry(level: field("level"), source: field("source"), message: field("message"))
        }
    }

    /// The messages of level SEVERE since the last call: `console.error`, uncaught exceptions, failed loads.
    public func consoleErrors() async throws -> [String] {
        try await consoleEntries().filter { $0.level == "SEVERE" }.map(\.message)
    }

    /// Polls `condition` until it is true; thrown errors count as "not yet". Throws a `timeout`
    /// WebDriverError naming `what`, the caller's line and the last error.
    nonisolated(nonsending)
    public func waitUntil(_ what: String = "condition", timeout: Duration, poll: Duration = .milliseconds(50),
                          fileID: String = #fileID, line: Int = #line,
                          _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            var lastError: (any Error)?
            do { if try await condition() { return } } catch { lastError = error }
            guard ContinuousClock.now < deadline else {
                throw WebDriverError(error: "timeout", message: "\(fileID):\(line): \(what) still false after \(timeout)"
                    + (lastError.map { " (last error: \($0))" } ?? ""))
            }
            try await Task.sleep(for: poll)
        }
    }

    /// Ends the session: chromedriver quits the browser.
    public func close() async throws { _ = try await http.call("DELETE") }

    private func element(_ value: WebValue) -> Element? {
        guard let id = value["element-6066-11e4-a52e-4f735466cecf"]?.string else { return nil }
        return Element(id: id, http: WebDriverHTTP(port: http.port, prefix: http.prefix + "/element/\(id)"))
    }
}
