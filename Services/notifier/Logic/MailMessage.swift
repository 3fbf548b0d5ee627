import Foundation
import HelpdeskModel

/// Addresses as the notifier sends to them: one plain `local@domain` mailbox, nothing that could
/// smuggle a header or an SMTP command.
public enum MailAddress {
    public static func isValid(_ text: String) -> Bool {
        let address = EmailAddress.normalize(text)
        guard address.count <= 254, let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at], domain = address[address.index(after: at)...]
        guard !local.isEmpty, local.count <= 64, !domain.isEmpty, domain.contains(".") || domain == "localhost" else { return false }
        let allowedLocal = Set("abcdefghijklmnopqrstuvwxyz0123456789.!#$%&'*+-/=?^_`{|}~")
        let allowedDomain = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        return local.allSatisfy(allowedLocal.contains) && domain.allSatisfy(allowedDomain.contains)
            && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.contains("..")
    }
}

/// One notification as an RFC 5322 message: plain text and HTML alternatives, a `Message-ID`
/// derived from the notification's `eventId` (a mail system can drop a duplicate) and
/// `In-Reply-To`/`References` naming the ticket's thread, so a mail client groups every
/// notification about one ticket.
public struct MailMessage: Sendable, Equatable {
    public var from: String
    public var to: String
    public var subject: String
    public var text: String
    public var messageID: String
    public var threadID: String
    public var date: Date

    /// The domain part of message ids.
    public static let idDomain = "helpdesk-sla.invalid"

    public init(notification: Event<HelpdeskModel.Notification>, from: String, to: String, date: Date) {
        self.from = from
        self.to = to
        subject = notification.payload.subject
        text = notification.payload.text + "\n\n" + "Ticket \(notification.externalId) (\(notification.source))"
            + (notification.payload.severity.map { ", severity \($0.name)" } ?? "") + ".\n"
        messageID = "<\(notification.eventId.rawValue)@\(Self.idDomain)>"
        threadID = "<ticket-\(notification.ticketId.rawValue)@\(Self.idDomain)>"
        self.date = date
    }

    /// The message as sent: CRLF line ends, headers folded and encoded, bodies in base64.
    public func rendered() -> [UInt8] {
        let boundary = "=_helpdesk_" + String(messageID.utf8.reduce(UInt64(14_695_981_039_346_656_037)) {
            ($0 ^ UInt64($1)) &* 1_099_511_628_211
        }, radix: 36)
        var lines = [
            "From: \(Self.addressHeader(from))",
            "To: \(Self.addressHeader(to))",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: \(messageID)",
            "In-Reply-To: \(threadID)",
            "References: \(threadID)",
            "MIME-Version: 1.0",
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
        ]
        lines += Self.base64Lines(text)
        lines += [
            "--\(boundary)",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
        ]
        lines += Self.base64Lines(html)
        lines += ["--\(boundary)--", ""]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// The HTML part: the text, escaped, one paragraph per blank-line-separated block.
    public var html: String {
        let paragraphs = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map {
            "<p>" + HTMLText.escaped($0).replacingOccurrences(of: "\n", with: "<br>") + "</p>"
        }
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\(HTMLText.escaped(subject))</title></head><body>"
            + paragraphs.joined() + "</body></html>"
    }

    /// An address header: the display name quoted, or an encoded word when it is not ASCII;
    /// the address itself always as written (RFC 5322 §3.4, RFC 2047 §5).
    static func addressHeader(_ value: String) -> String {
        let address = EmailAddressText.bare(value)
        guard let open = value.lastIndex(of: "<") else { return address }
        var name = value[..<open].trimmingCharacters(in: .whitespaces)
            .replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if name.count >= 2 && name.hasPrefix("\"") && name.hasSuffix("\"") {
            // Already a quoted string: its escapes undone, so that they are not doubled.
            var unquoted = "", escaped = false
            for character in name.dropFirst().dropLast() {
                if !escaped && character == "\\" { escaped = true; continue }
                unquoted.append(character)
                escaped = false
            }
            name = unquoted
        }
        guard !name.isEmpty else { return "<\(address)>" }
        guard name.allSatisfy(\.isASCII) else { return "\(encodedWord(name, force: true)) <\(address)>" }
        let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(quoted)\" <\(address)>"
    }

    /// RFC 2047: `=?utf-8?B?...?=` in pieces of at most 45 bytes, folded onto lines of their own.
    static func encodedWord(_ value: String, force: Bool = false) -> String {
        let flat = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        if !force && flat.allSatisfy({ $0.isASCII }) && flat.utf8.count <= 900 { return flat }
        var pieces = [String]()
        var piece = [UInt8]()
        for character in flat {
            let bytes = Array(String(character).utf8)
            if piece.count + bytes.count > 45 {
                pieces.append(piece.base64)
                piece = []
            }
            piece += bytes
        }
        if !piece.isEmpty { pieces.append(piece.base64) }
        return pieces.map { "=?utf-8?B?\($0)?=" }.joined(separator: "\r\n ")
    }

    static func base64Lines(_ text: String) -> [String] {
        let encoded = Array(Array(text.utf8).base64)
        return stride(from: 0, to: encoded.count, by: 76).map { String(encoded[$0..<min($0 + 76, encoded.count)]) }
    }

    static func rfc5322Date(_ date: Date) -> String {
        // 2026-11-30T23:04:42Z → Mon, 30 Nov 2026 23:04:42 +0000
        let iso = Array(ISO8601.format(date))
        let year = String(iso[0..<4]), month = Int(String(iso[5..<7])) ?? 1, day = Int(String(iso[8..<10])) ?? 1
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
        let monthName = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]
        return "\(weekday), \(day) \(monthName) \(year) \(String(iso[11..<19])) +0000"
    }
}

extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}
