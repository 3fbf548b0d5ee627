import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Bounds what one HTTP connection may hold of a service: the next request's header must
/// arrive within `headerTimeout` of the connection opening or of the previous response, its
/// body within `bodyTimeout` of the header, or the connection is closed. A response written
/// before the request's body was read (a 401, 413 or 415 refuses without reading it) closes the
/// connection, with `Connection: close`, instead of reading the rest of the body: the response is
/// sent and the sending side shut, then what the client still sends is discarded for up to
/// `lingerTimeout` before the connection closes (a "lingering close", as nginx's). Closing at once
/// with unread bytes in the socket would have the kernel reset the connection, and a client still
/// sending could lose the response.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let headerTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// Between a request's header and the end of its body.
    private var readingBody = false
    private var closeAfterResponse = false
    /// The response is out and the sending side shut: what arrives now is discarded.
    private var lingering = false
    static let lingerTimeout = TimeAmount.seconds(2)

    init(headerTimeout: TimeAmount, bodyTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(headerTimeout, context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(headerTimeout, context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    /// While lingering, the client's end of input ends the wait.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if lingering, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingering { return }
        switch unwrapInboundIn(data) {
        case .head:
            readingBody = true
            arm(bodyTimeout, context)
        case .body:
            break
        case .end:
            readingBody = false
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response):
            if readingBody || response.headerFields[.connection]?.lowercased() == "close" {
                closeAfterResponse = true
                response.headerFields[.connection] = "close"
                context.write(wrapOutboundOut(.head(response)), promise: promise)
                return
            }
        case .body:
            break
        case .end:
            if closeAfterResponse {
                let written = promise ?? context.eventLoop.makePromise()
                let channel = context.channel
                if readingBody {
                    lingering = true
                    arm(Self.lingerTimeout, context)
                    written.futureResult.whenComplete { _ in
                        channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
                    }
                } else {
                    disarm()
                    written.futureResult.whenComplete { _ in channel.close(promise: nil) }
                }
                context.write(data, promise: written)
                return
            }
            if !readingBody { arm(headerTimeout, context) }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ timeout: TimeAmount, _ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}

/// How much of a service one HTTP client may hold, from the environment.
public struct HTTPLimits: Sendable, Equatable {
    /// Connections served at once; further ones wait in the listen backlog.
    public var maxConnections: Int
    public var headerTimeout: Duration
    public var bodyTimeout: Duration

    public init(maxConnections: Int = 512, headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30)) {
        self.maxConnections = maxConnections
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    var channelConfiguration: HTTP1Channel.Configuration {
        let header = TimeAmount(headerTimeout), body = TimeAmount(bodyTimeout)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(headerTimeout: header, bodyTimeout: body)], idleTimeout: header)
    }
}
