import Foundation

/// E-mail addresses as the system compares them.
public enum EmailAddress {
    /// `"A. Person" <Esc@Support.Example>` → `esc@support.example`: display name stripped,
    /// whitespace trimmed, lower-cased.
    public static func normalize(_ text: String) -> String {
        var address = Substring(text)
        if let open = address.lastIndex(of: "<"), let close = address[open...].firstIndex(of: ">") {
            address = address[address.index(after: open)..<close]
        }
        return address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Whether two addresses are the same mailbox, ignoring case, display names and a
    /// `+tag` on the local part (`escalations+acme@support.example`).
    public static func sameMailbox(_ a: String, _ b: String) -> Bool {
        withoutPlusTag(normalize(a)) == withoutPlusTag(normalize(b))
    }

    private static func withoutPlusTag(_ address: String) -> String {
        guard let at = address.lastIndex(of: "@") else { return address }
        let local = address[..<at]
        let plainLocal = local.firstIndex(of: "+").map { local[..<$0] } ?? local
        return String(plainLocal) + String(address[at...])
    }
}
