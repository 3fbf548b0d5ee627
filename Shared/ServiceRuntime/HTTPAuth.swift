import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// Who sent a request, as the secret it presented says: a name (an intake source, a person) and,
/// for APIs with roles, the role.
public struct Caller: Sendable, Equatable {
    public let name: String
    public let role: String?

    public init(name: String, role: String? = nil) {
        self.name = name
        self.role = role
    }
}

/// The request context of every service's router: Hummingbird's, with the authenticated caller.
public typealias ServiceRequestContext = BasicAuthRequestContext<Caller>

/// Bearer authentication (hummingbird-auth's `AuthenticatorMiddleware`) for a group of routes:
/// a request without a secret, or with one no caller holds, is refused with 401 and a precise
/// body before its handler runs; otherwise the handler finds the caller in `context.identity`.
/// Secrets are compared in constant time (`SecretTable`) and never logged.
public struct SecretAuthenticator: AuthenticatorMiddleware {
    public typealias Context = ServiceRequestContext

    let lookup: @Sendable (String) -> Caller?
    /// A header that may carry the secret instead of `Authorization: Bearer`.
    let fallbackHeader: HTTPField.Name?
    let missing: HTTPRefusal
    let invalid: HTTPRefusal

    public init(lookup: @escaping @Sendable (String) -> Caller?, fallbackHeader: String? = nil, missing: HTTPRefusal,
                invalid: HTTPRefusal) {
        self.lookup = lookup
        self.fallbackHeader = fallbackHeader.flatMap { HTTPField.Name($0) }
        self.missing = missing
        self.invalid = invalid
    }

    /// Tokens as `Authorization: Bearer <token>`, each naming its holder.
    public static func bearerTokens(_ lookup: @escaping @Sendable (String) -> Caller?) -> SecretAuthenticator {
        SecretAuthenticator(
            lookup: lookup,
            missing: HTTPRefusal(.unauthorized, "missing_token", "Send a token as \"Authorization: Bearer <token>\"."),
            invalid: HTTPRefusal(.unauthorized, "invalid_token", "The token is not valid."))
    }

    public func authenticate(request: Request, context: Context) async throws -> Caller? {
        guard let presented = Self.presented(in: request.headers, orHeader: fallbackHeader) else { throw missing }
        guard let caller = lookup(presented) else { throw invalid }
        return caller
    }

    /// The bearer secret (the scheme's name in any case, as RFC 9110 has it), or the fallback header's value.
    static func presented(in headers: HTTPFields, orHeader fallback: HTTPField.Name?) -> String? {
        var presented = headers[.authorization].flatMap { value -> String? in
            guard value.lowercased().hasPrefix("bearer ") else { return nil }
            return String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if presented == nil, let fallback { presented = headers[fallback] }
        guard let presented, !presented.isEmpty else { return nil }
        return presented
    }
}

extension HTTPRefusal: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// Answers for every route what its handler threw that is not already an HTTP answer: 503 while
/// the broker cannot take a record, 500 otherwise, logged and never echoed (`APIFailure`).
/// Refusals (`HTTPRefusal`) and Hummingbird's own errors pass through as `HTTPResponseError`s.
public struct APIFailureMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return APIFailure.response(for: error, logger: context.logger)
        }
    }
}

/// 405 for the methods a path does not take, with `Allow` naming those it does: a client that
/// sends `PUT /v1/tickets` learns it used the wrong method, not that the path does not exist.
public enum MethodRefusal {
    /// The methods of RFC 9110, PATCH, and QUERY (the safe query method in IETF draft).
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options, .trace, HTTPRequest.Method("QUERY")!]

    /// Refuses every other method on `path` (registered on the router itself, so before any
    /// group's authentication).
    public static func refuseOthers<Context: RequestContext>(
        on router: Router<Context>, _ path: RouterPath, allowing allowed: [HTTPRequest.Method]
    ) {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        for method in methods where !allowed.contains(method) {
            router.on(path, method: method) { _, _ in
                var response = HTTPRefusal(.methodNotAllowed, "method_not_allowed", "\(path) takes \(allow) only.").response
                response.headers[.allow] = allow
                return response
            }
        }
    }
}
