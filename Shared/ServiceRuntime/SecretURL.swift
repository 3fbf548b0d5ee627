/// URLs that may carry credentials (`smtp://user:secret@host`, `postgres://user:secret@host/db`).
public enum SecretURL {
    /// The URL as logged: whatever stands between `://` and its last `@` is never shown, even
    /// when the secret itself holds an `@`, and whether or not the URL parses.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + "<redacted>" + String(url[at...])
    }
}
