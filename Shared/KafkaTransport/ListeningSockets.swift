import Foundation

/// The mock cluster's listening sockets, found by port among this process's descriptors.
///
/// The mock broker writes each response with its own `sendmsg` and never sets `TCP_NODELAY`,
/// so when it answers several pipelined requests at once, Nagle holds every response after
/// the first until the client's delayed ACK (about 40 ms on Linux): a producer with five
/// requests in flight waited ~45 ms for most acknowledgements. Linux copies `TCP_NODELAY`
/// from a listening socket to the connections it accepts, so setting it here covers every
/// client that connects afterwards.
enum ListeningSockets {
    static func disableNagle(onPorts ports: Set<UInt16>) {
        #if os(Linux)
        guard let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for descriptor in descriptors.compactMap(Int32.init) where isListening(descriptor, onAnyOf: ports) {
            var on: Int32 = 1
            _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        #endif
    }

    private static func isListening(_ descriptor: Int32, onAnyOf ports: Set<UInt16>) -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1 else { return false }
        var address = sockaddr_in()
        var addressLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &addressLength) }
        }
        guard named == 0, address.sin_family == sa_family_t(AF_INET) else { return false }
        return ports.contains(UInt16(bigEndian: address.sin_port))
    }
}
