import Foundation
import ServiceRuntime

#if canImport(Glibc)
import Glibc
#endif

/// One keep-alive HTTP/1.1 connection to a service on loopback, without a client library: what
/// `helpdesk dev` polls `/readyz` with, and what `helpdesk bench status` times requests with.
final class LoopbackHTTP {
    private let socket: Int32

    /// `timeout` bounds each send and receive; nil waits as long as it takes.
    init(port: Int, timeout: Duration? = nil) throws {
        let connected = connectLoopback(port: port) { socket in
            if let timeout {
                var interval = timeval(tv_sec: Int(timeout.components.seconds),
                                       tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
                setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
            }
            var one: Int32 = 1
            setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard case .success(let socket) = connected else { throw CLIError("cannot connect to 127.0.0.1:\(port)") }
        self.socket = socket
    }

    /// The status of `GET path` on a new connection, or nil when nothing answers within 2 s.
    static func status(port: Int, path: String) -> Int? {
        guard let connection = try? LoopbackHTTP(port: port, timeout: .seconds(2)) else { return nil }
        defer { connection.close() }
        return try? connection.get(path)
    }

    /// Sends a GET and reads the whole response; returns its status.
    func get(_ path: String, bearer: String? = nil) throws -> Int {
        let authorization = bearer.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(authorization)\r\n".utf8)
        guard request.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw CLIError("send failed")
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw CLIError("the connection closed") }
            received += buffer[..<count]
            guard let headerEnd = received.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: received[..<headerEnd.lowerBound], as: UTF8.self)
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if received.count - headerEnd.upperBound >= length {
                // "HTTP/1.1 200 OK"
                let words = head.split(separator: " ", maxSplits: 2)
                guard words.count > 1, let status = Int(words[1]) else { throw CLIError("not an HTTP response") }
                return status
            }
        }
    }

    func close() { Glibc.close(socket) }
}
