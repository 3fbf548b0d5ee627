import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A real HTTP server on loopback that receives webhooks and answers as each path is scripted:
/// `/ok` 200; `/flaky/N` 500 for the first N requests of each `webhook-id`, then 200;
/// `/bad` 400; `/hang` holds the request for a minute; `/later` 429 with `Retry-After: 1` once per id;
/// `/slow` 200 after 10 ms.
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var status: Int
    }

    private final class Log: Sendable {
        let entries = Mutex<[Received]>([])
    }
    private let log = Log()
    private let port = Mutex<Int?>(nil)
    private let task = Mutex<Task<Void, any Error>?>(nil)

    public init() {}

    public var requests: [Received] { log.entries.withLock { $0 } }

    public func url(_ path: String) -> String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)\(path)" }

    public func start() async throws {
        let router = Router()
        let log = self.log
        router.post("**") { request, context -> Response in
            let path = request.uri.path
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers = [String: String]()
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let id = headers["webhook-id"] ?? ""
            let earlier = log.entries.withLock { $0.filter { $0.path == path && $0.headers["webhook-id"] == id }.count }
            var status = 200
            var responseHeaders = HTTPFields()
            if path.hasPrefix("/flaky/"), let failures = Int(path.dropFirst("/flaky/".count)), earlier < failures { status = 500 }
            if path == "/bad" { status = 400 }
            if path == "/later" && earlier == 0 {
                status = 429
                responseHeaders[.retryAfter] = "1"
            }
            log.entries.withLock { $0.append(Received(path: path, headers: headers, body: Array(buffer: body), status: status)) }
            if path == "/hang" { try await Task.sleep(for: .seconds(60)) }
            if path == "/slow" { try await Task.sleep(for: .milliseconds(10)) }
            return Response(status: .init(code: status), headers: responseHeaders)
        }
        let bound = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                bound.continuation.yield(channel.localAddress?.port ?? 0)
                bound.continuation.finish()
            })
        task.withLock { $0 = Task { try await application.runService() } }
        for await value in bound.stream { port.withLock { $0 = value } }
    }

    public func stop() {
        task.withLock { $0?.cancel() }
    }
}

/// `scripts/smtp-sink.py`: a real SMTP server (aiosmtpd) that keeps each accepted message as a
/// file; recipients named `reject…` get 550, `defer…` 451.
public final class SMTPSink: @unchecked Sendable {
    public let directory: String
    public private(set) var port = 0
    private let process = Process()

    public init(auth: String? = nil, certificate: (cert: String, key: String)? = nil) throws {
        directory = NSTemporaryDirectory() + "smtp-sink-\(UUID().uuidString.prefix(8))"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/smtp-sink.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, "--dir", directory] + (auth.map { ["--auth", $0] } ?? [])
            + (certificate.map { ["--tls-cert", $0.cert, "--tls-key", $0.key] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard text.hasPrefix("READY "), let port = Int(text.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw HarnessError("the SMTP sink did not start (is python3-aiosmtpd installed?): \(text)")
        }
        self.port = port
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// The messages received so far, oldest first.
    public var messages: [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return names.compactMap { try? String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8) }
    }

    public func stop() {
        // SIGKILL: a child of the test process may inherit a mask that blocks SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
