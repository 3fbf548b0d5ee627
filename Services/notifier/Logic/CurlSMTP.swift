import CCurl
import Dispatch
import Foundation
import HelpdeskModel
import Synchronization

/// How the notifier reaches its SMTP relay (`NOTIFIER_SMTP_*`, docs/operations.md).
public struct SMTPSettings: Sendable, Equatable {
    public enum TLS: String, Sendable, CaseIterable {
        /// STARTTLS when the relay offers it.
        case optional
        /// STARTTLS or fail (the default when a username is set).
        case required
        /// Never (a local catcher).
        case off
    }
    /// `smtp://host:port` (STARTTLS per `tls`) or `smtps://host:port` (TLS from the start).
    public var url: String
    public var from: String
    public var username: String?
    /// Never logged, never in a file: `NOTIFIER_SMTP_PASSWORD`.
    public var password: String?
    public var tls: TLS
    /// A CA bundle for a relay with a private certificate.
    public var caFile: String?
    public var timeout: Duration

    /// Whether the URL carries credentials (`user:password@`); they belong in
    /// `NOTIFIER_SMTP_USERNAME`/`NOTIFIER_SMTP_PASSWORD`, which force TLS.
    public static func hasCredentials(_ url: String) -> Bool {
        guard let scheme = url.range(of: "://") else { return false }
        return url[scheme.upperBound...].contains("@")
    }

    public init(
        url: String, from: String, username: String? = nil, password: String? = nil, tls: TLS = .optional,
        caFile: String? = nil, timeout: Duration = .seconds(30)
    ) {
        self.url = url
        self.from = from
        self.username = username
        self.password = password
        self.tls = tls
        self.caFile = caFile
        self.timeout = timeout
    }
}

/// Sends mail through libcurl's SMTP client (Debian's libcurl4-openssl-dev): the only place that
/// calls `curl_*`. libcurl's calls block, so they run on a queue of their own, off Swift's
/// cooperative pool; handles are kept and reused, with the connections they hold.
public final class CurlSMTP: MailTransport {
    private let settings: SMTPSettings
    private let queue = DispatchQueue(label: "notifier-smtp", attributes: .concurrent)
    private let idle = Mutex<[EasyHandle]>([])

    private static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    public init(settings: SMTPSettings) {
        self.settings = settings
        _ = Self.initialized
    }

    deinit {
        for handle in idle.withLock({ $0 }) { curl_easy_cleanup(handle.pointer) }
    }

    /// Sends on the SMTP queue; a cancelled task aborts the transfer at libcurl's next
    /// progress call (about once a second while it waits on the relay).
    public func send(_ message: MailMessage) async -> DeliveryAttempt {
        let abort = AbortFlag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async { continuation.resume(returning: self.sendBlocking(message, abort: abort)) }
            }
        } onCancel: {
            abort.raise()
        }
    }

    private func sendBlocking(_ message: MailMessage, abort: AbortFlag) -> DeliveryAttempt {
        guard let handle = idle.withLock({ $0.popLast()?.pointer }) ?? curl_easy_init() else {
            return .transient("libcurl could not make a handle")
        }
        defer {
            curl_easy_reset(handle)
            idle.withLock { $0.append(EasyHandle(pointer: handle)) }
        }
        let upload = Upload(bytes: message.rendered())
        let box = Unmanaged.passRetained(upload)
        defer { box.release() }
        let abortBox = Unmanaged.passRetained(abort)
        defer { abortBox.release() }
        var recipients: UnsafeMutablePointer<curl_slist>? = nil
        recipients = curl_slist_append(recipients, "<\(EmailAddressText.bare(message.to))>")
        defer { curl_slist_free_all(recipients) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let result: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            hd_curl_set_string(handle, CURLOPT_URL, settings.url)
            hd_curl_set_string(handle, CURLOPT_MAIL_FROM, "<\(EmailAddressText.bare(settings.from))>")
            hd_curl_set_slist(handle, CURLOPT_MAIL_RCPT, recipients)
            hd_curl_set_long(handle, CURLOPT_UPLOAD, 1)
            hd_curl_set_read_function(handle) { buffer, size, count, userdata in
                guard let buffer, let userdata else { return 0 }
                return Unmanaged<Upload>.fromOpaque(userdata).takeUnretainedValue().read(into: buffer, max: size * count)
            }
            hd_curl_set_pointer(handle, CURLOPT_READDATA, box.toOpaque())
            hd_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
            hd_curl_set_long(handle, CURLOPT_NOPROGRESS, 0)
            hd_curl_set_xferinfo_function(handle) { userdata, _, _, _, _ in
                guard let userdata else { return 0 }
                return Unmanaged<AbortFlag>.fromOpaque(userdata).takeUnretainedValue().isRaised ? 1 : 0
            }
            hd_curl_set_pointer(handle, CURLOPT_XFERINFODATA, abortBox.toOpaque())
            let timeout = settings.timeout.milliseconds
            hd_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(timeout, 10_000))
            hd_curl_set_long(handle, CURLOPT_TIMEOUT_MS, timeout)
            switch settings.tls {
            case .optional: hd_curl_set_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
            case .required: hd_curl_set_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
            case .off: hd_curl_set_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue))
            }
            if let caFile = settings.caFile { hd_curl_set_string(handle, CURLOPT_CAINFO, caFile) }
            if let username = settings.username { hd_curl_set_string(handle, CURLOPT_USERNAME, username) }
            if let password = settings.password { hd_curl_set_string(handle, CURLOPT_PASSWORD, password) }
            hd_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            return curl_easy_perform(handle)
        }
        var code = 0
        hd_curl_response_code(handle, &code)
        if result == CURLE_OK { return .delivered }
        if result == CURLE_ABORTED_BY_CALLBACK { return .transient("SMTP: cancelled") }
        let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // libcurl names no step when the relay refuses the message after its data.
        let afterData = detail.isEmpty && (result == CURLE_WEIRD_SERVER_REPLY || result == CURLE_RECV_ERROR)
        return SMTPFailure.outcome(reply: code, detail: detail, fallback: String(cString: curl_easy_strerror(result)), afterData: afterData)
    }
}

/// What a failed SMTP exchange means for a delivery. Only a refusal of this message is for
/// good: the recipient refused (`RCPT` 5xx), or the message refused after its data.
/// Everything else (a refused login, a refused sender, a
/// 5xx greeting, any 4xx, no answer) is the relay's state, the same for every message: it is
/// retried, and it opens the lane's circuit.
enum SMTPFailure {
    static func outcome(reply: Int, detail: String, fallback: String, afterData: Bool = false) -> DeliveryAttempt {
        let reason = "SMTP: " + (detail.isEmpty ? fallback : detail) + (afterData ? " after the message" : "")
            + (reply > 0 ? " (reply \(reply))" : "")
        let refusedForGood = (500...599).contains(reply) && (detail.hasPrefix("RCPT failed") || afterData)
        return refusedForGood ? .permanent(code: "smtp_\(reply)", reason: reason) : .transient(reason)
    }
}

/// Raised when the send's task is cancelled; libcurl's progress callback reads it.
private final class AbortFlag: Sendable {
    private let raised = Atomic(false)
    var isRaised: Bool { raised.load(ordering: .relaxed) }
    func raise() { raised.store(true, ordering: .relaxed) }
}

/// A libcurl easy handle kept between sends; used by one send at a time.
private struct EasyHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

/// The bytes libcurl reads the message from.
private final class Upload {
    let bytes: [UInt8]
    var offset = 0
    init(bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let count = min(max, bytes.count - offset)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }
}

/// An address as an SMTP envelope takes it: the mailbox alone, and never a line break or an
/// angle bracket that could end the command.
enum EmailAddressText {
    static func bare(_ text: String) -> String {
        EmailAddress.mailbox(text).filter { $0 != "\r" && $0 != "\n" && $0 != "<" && $0 != ">" }
    }
}
