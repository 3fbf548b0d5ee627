import Dispatch
import Foundation
import ServiceRuntime
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection, for what an HTTP client library will not send: half-sent headers,
/// trickled and oversized chunked bodies, connections that never say anything.
public final class RawConnection: @unchecked Sendable {
    let fd: Int32

    public init(port: Int) throws {
        switch connectLoopback(port: port) {
        case .success(let socket): fd = socket
        case .failure(let error): throw HarnessError("connect failed: \(error.errno)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends what the peer still takes; false once it has closed.
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Everything until the peer closes (or 10 s pass without a byte). The wait blocks a
    /// thread, so it runs on Dispatch's, never on the pool the server's handlers need.
    public func readToEnd() async -> (text: String, closed: Bool) {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.blockingReadToEnd()) }
        }
    }

    private func blockingReadToEnd() -> (text: String, closed: Bool) {
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { received += buffer.prefix(count); continue }
            return (String(decoding: received, as: UTF8.self), count == 0 || errno == ECONNRESET)
        }
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

