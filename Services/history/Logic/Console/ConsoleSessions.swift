import Crypto
import Foundation

/// A signed-in person's session, as its cookie carries it.
public struct ConsoleSession: Sendable, Equatable, Codable {
    public var user: ConsoleUser
    /// Random per sign-in: the session's CSRF token is derived from it.
    public var nonce: String
    /// Epoch seconds after which the cookie is refused.
    public var expires: Int64
}

/// Sessions in a signed cookie (HMAC-SHA256 under `CONSOLE_SESSION_SECRET`): any console
/// instance with the same secret accepts it, none keeps state. The cookie is `HttpOnly`,
/// `SameSite=Strict`, `Secure` behind TLS; it never holds the token that signed the person in.
/// Every form carries a CSRF token derived from the session, checked in constant time.
public struct ConsoleSessions: Sendable {
    public static let cookieName = "helpdesk_console"
    /// The sign-in form's own CSRF cookie (a double submit: no session exists yet).
    public static let signInCookieName = "helpdesk_console_signin"
    public static let lifetimeSeconds: Int64 = 12 * 3_600
    private let key: SymmetricKey
    private let now: @Sendable () -> Date

    public init(secret: String, now: @escaping @Sendable () -> Date) {
        key = SymmetricKey(data: SHA256.hash(data: Array(secret.utf8)))
        self.now = now
    }

    /// A random secret for an instance started without one (sessions end when it stops).
    public static func randomSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Base64URL.encode(Array($0)) }
    }

    public func issue(_ user: ConsoleUser) -> (cookie: String, session: ConsoleSession) {
        let session = ConsoleSession(user: user, nonce: Self.randomSecret(), expires: Int64(now().timeIntervalSince1970) + Self.lifetimeSeconds)
        let payload = Array((try? JSONEncoder().encode(session)) ?? Data())
        return (Base64URL.encode(payload) + "." + Base64URL.encode(mac(payload)), session)
    }

    /// The session a cookie holds, if its signature is this key's and it has not expired.
    public func session(cookie: String) -> ConsoleSession? {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64URL.decode(parts[0]), let code = Base64URL.decode(parts[1]),
              HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: payload, using: key),
              let session = try? JSONDecoder().decode(ConsoleSession.self, from: Data(payload)),
              session.expires > Int64(now().timeIntervalSince1970)
        else { return nil }
        return session
    }

    public func csrfToken(for session: ConsoleSession) -> String { csrfToken(binding: "session:" + session.nonce) }

    public func isValidCSRF(_ token: String, for session: ConsoleSession) -> Bool {
        isValid(token, binding: "session:" + session.nonce)
    }

    /// The sign-in form's token, bound to the random value of its cookie.
    public func csrfToken(signInCookie value: String) -> String { csrfToken(binding: "sign-in:" + value) }

    public func isValidCSRF(_ token: String, signInCookie value: String) -> Bool { isValid(token, binding: "sign-in:" + value) }

    private func csrfToken(binding: String) -> String { Base64URL.encode(mac(Array(("csrf\n" + binding).utf8))) }

    private func isValid(_ token: String, binding: String) -> Bool {
        guard let code = Base64URL.decode(Substring(token)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Array(("csrf\n" + binding).utf8), using: key)
    }

    private func mac(_ bytes: [UInt8]) -> [UInt8] { Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key)) }
}

/// Base64 with the URL alphabet and no padding: what a cookie value may hold.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        guard text.utf8.count <= 4_096, text.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0)
            || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}
