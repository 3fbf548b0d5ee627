import Hummingbird
import HummingbirdCore
import Logging
import Prometheus

/// The operational endpoints every service serves: `/healthz` (the process is alive),
/// `/readyz` (connected and assigned; 503 names what is missing) and `/metrics`.
public enum OperationalRoutes {
    public static func add<Context: RequestContext>(to router: Router<Context>, readiness: Readiness, registry: PrometheusCollectorRegistry) {
        router.get("healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("readyz") { _, _ -> Response in
            let failing = readiness.failing()
            let body = failing.isEmpty
                ? #"{"status":"ready"}"#
                : #"{"status":"not ready","failing":["# + failing.map { "\"\($0.name)\"" }.joined(separator: ",") + "]}"
            return Response(
                status: failing.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        for path in ["healthz", "readyz", "metrics"] { MethodRefusal.refuseOthers(on: router, RouterPath(path), allowing: [.get]) }
        router.get("metrics") { _, _ -> Response in
            var buffer = [UInt8]()
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}

/// Builds a service's router: the operational routes plus whatever API the service adds.
public func buildRouter(
    readiness: Readiness, registry: PrometheusCollectorRegistry,
    addRoutes: (Router<ServiceRequestContext>) -> Void = { _ in }
) -> Router<ServiceRequestContext> {
    let router = Router(context: ServiceRequestContext.self)
    // Requests by route, method and status (hb_requests, http_server_request_duration).
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: EmptySegmentRefusal())
    router.add(middleware: APIFailureMiddleware())
    OperationalRoutes.add(to: router, readiness: readiness, registry: registry)
    addRoutes(router)
    return router
}

public func buildApplication(
    router: Router<ServiceRequestContext>, host: String, port: Int, serviceName: String, limits: HTTPLimits = HTTPLimits(),
    logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: router,
        server: .http1(configuration: limits.channelConfiguration),
        configuration: .init(
            address: .hostname(host, port: port), serverName: serviceName,
            availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
        logger: logger)
}

/// Refuses a path with an empty segment (`/v1/tickets/crm//x/messages`) with 400 before routing:
/// the router would collapse it and address another ticket than the caller wrote.
struct EmptySegmentRefusal<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.contains("//") {
            return HTTPRefusal(.badRequest, "invalid_path", "The path has an empty segment.").response
        }
        return try await next(request, context)
    }
}

/// `GET /openapi.yaml`: a service's OpenAPI document, served as it is (the package resource its
/// docs/ file links to); other methods are 405.
public enum OpenAPIRoute {
    public static func add<Context: RequestContext>(_ document: [UInt8], to router: Router<Context>) {
        MethodRefusal.refuseOthers(on: router, "openapi.yaml", allowing: [.get])
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}
