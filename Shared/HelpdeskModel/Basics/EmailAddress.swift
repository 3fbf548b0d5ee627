import Foundation

/// E-mail addresses as the system compares them.
public enum EmailAddress {
    /// `"A. Person" <Esc@Support.Example>` → `esc@support.example`: display name stripped,
    /// whitespace trimmed, lower-cased.
    public static func normalize(_ text: String) -> String { mailbox(text).lowercased() }

    /// `"A. Person" <Esc@Support.Example>` → `Esc@Support.Example`: the mailbox alone, as
    /// written (an SMTP envelope's address).
    public static func mailbox(_ text: String) -> String {
        var address = Substring(text)
        if let open = address.lastIndex(of: "<"), let close = address[open...].firstIndex(of: ">") {
            address = address[address.index(after: open)..<close]
        }
        return address.trimmingCharacters(in: .whitespacesAndNewlines)
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
