#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket connected to 127.0.0.1:`port`, or the `errno` of the failure: the one way the
/// CLI's loopback client and the tests' raw connections reach a service. `configure` sets
/// socket options before the connect (a send timeout also bounds the connect).
public func connectLoopback(port: Int, configure: (Int32) -> Void = { _ in }) -> Result<Int32, LoopbackConnectError> {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { return .failure(LoopbackConnectError(errno: errno)) }
    configure(socket)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let error = LoopbackConnectError(errno: errno)
        Glibc.close(socket)
        return .failure(error)
    }
    return .success(socket)
}

public struct LoopbackConnectError: Error, Sendable {
    public let errno: Int32
}
