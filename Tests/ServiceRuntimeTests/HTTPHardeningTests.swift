import Foundation
import HTTPTypes
import HelpdeskModel
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import ServiceRuntime
import Testing
import TestSupport

/// Short timeouts by default (the tests of the timeouts); a test of something else under a
/// loaded CI machine passes generous ones, so that a timer never decides its outcome.
func hardenedApplication(
    maxConnections: Int = 512, headerTimeout: Duration = .milliseconds(300), bodyTimeout: Duration = .milliseconds(600)
) -> some ApplicationProtocol {
    let router = Router(context: ServiceRequestContext.self)
    router.post("echo") { request, _ -> Response in
        do {
            guard request.headers[.authorization] == "Bearer right" else {
                throw HTTPRefusal(.unauthorized, "missing_token", "No.")
            }
            let members = try await JSONRequestBody.object(of: request, maxBytes: 1024)
            return JSONReply.make(.ok, ["members": .string(String(members.count))])
        } catch let refusal as HTTPRefusal {
            return refusal.response
        }
    }
    router.get("healthz") { _, _ in "ok" }
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return buildApplication(
        router: router, host: "127.0.0.1", port: 0, serviceName: "test",
        limits: HTTPLimits(maxConnections: maxConnections, headerTimeout: headerTimeout, bodyTimeout: bodyTimeout),
        logger: logger)
}

@Suite("HTTP hardening", .serialized)
struct HTTPHardeningTests {
    @Test func silentAndHalfSentRequestsAreClosed() async throws {
        try await hardenedApplication().test(.live) { client in
            let port = try #require(client.port)
            let silent = try RawConnection(port: port)
            let halfHeader = try RawConnection(port: port)
            halfHeader.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right\r\n")
            let trickledBody = try RawConnection(port: port)
            trickledBody.send("POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"a\":")
            #expect(await silent.readToEnd().closed)
            #expect(await halfHeader.readToEnd().closed)
            #expect(await trickledBody.readToEnd().closed)
        }
    }

    @Test func aRefusalClosesTheConnectionWithoutReadingTheBody() async throws {
        // Not the body timeout (600 ms here) but the refusal must close the connection.
        try await hardenedApplication(headerTimeout: .seconds(30), bodyTimeout: .seconds(30)).test(.live) { client in
            let connection = try RawConnection(port: try #require(client.port))
            connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"a\":1")
            let (text, closed) = await connection.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 401"))
            #expect(text.lowercased().contains("connection: close"))
            #expect(closed)
        }
    }

    @Test func anOversizedChunkedBodyIs413NotAnInternalError() async throws {
        try await hardenedApplication().test(.live) { client in
            let connection = try RawConnection(port: try #require(client.port))
            var request = "POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            for _ in 0..<4 { request += "200\r\n" + String(repeating: " ", count: 512) + "\r\n" }
            connection.send(request + "0\r\n\r\n")
            let (text, _) = await connection.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 413"))
            #expect(text.contains(#""error":"too_large""#))
        }
    }

    @Test func bodiesMustBeDeclaredJSONAndUncompressed() async throws {
        try await hardenedApplication().test(.router) { client in
            for (type, encoding) in [("text/plain", nil), ("application/xml", nil), ("application/json; charset=latin1", nil),
                                     (nil, nil), ("application/json", "gzip")] as [(String?, String?)] {
                var headers: HTTPFields = [.authorization: "Bearer right"]
                headers[.contentType] = type
                headers[.contentEncoding] = encoding
                try await client.execute(uri: "/echo", method: .post, headers: headers, body: ByteBuffer(string: "{}")) { response in
                    #expect(response.status == .unsupportedMediaType, "\(type ?? "no type") \(encoding ?? "")")
                }
            }
            let headers: HTTPFields = [.authorization: "Bearer right", .contentType: "Application/JSON; charset=UTF-8"]
            try await client.execute(uri: "/echo", method: .post, headers: headers, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func connectionsBeyondTheCapWaitAndAreServedOnceOthersTimeOut() async throws {
        try await hardenedApplication(maxConnections: 4).test(.live) { client in
            let port = try #require(client.port)
            let held = try (0..<4).map { _ in try RawConnection(port: port) }
            for connection in held { connection.send("GET /healthz HTTP/1.1\r\n") }
            let waiting = try RawConnection(port: port)
            waiting.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let (text, _) = await waiting.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 200"))
            for connection in held { #expect(await connection.readToEnd().closed) }
        }
    }

    @Test func aPathWithAnEmptySegmentIsRefusedNotCollapsed() async throws {
        let router = buildRouter(readiness: Readiness(), registry: PrometheusCollectorRegistry()) { router in
            router.get("v1/tickets/:source/:externalId") { _, context in try PathParameter.decoded("externalId", in: context) }
        }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/v1/tickets/crm//x", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("invalid_path"))
            }
            try await client.execute(uri: "/v1/tickets/crm/x", method: .get) { response in
                #expect(String(buffer: response.body) == "x")
            }
        }
    }
}
