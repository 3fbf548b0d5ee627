import HTTPTypes
import HelpdeskModel
import Hummingbird
import MessageBus

/// A request refused with a precise status and JSON body (`{"error", "message", …}`).
public struct HTTPRefusal: Error, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var extra: [String: JSONValue]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, _ extra: [String: JSONValue] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
    }

    public var response: Response { JSONReply.error(status, code, message, extra) }

    /// 422 listing every field that is wrong: `{"error": "invalid_fields", "fieldErrors": [{"field", "problem"}]}`.
    public static func invalidFields(_ errors: [FieldError]) -> HTTPRefusal {
        HTTPRefusal(.unprocessableContent, "invalid_fields", "The body has invalid fields.", [
            "fieldErrors": .array(errors.map { .object(["field": .string($0.field), "problem": .string($0.problem)]) }),
        ])
    }
}

/// Credentials presented with a request.
public enum PresentedCredential {
    /// The value of `Authorization: Bearer <value>`, or of the fallback header when given.
    public static func bearer(in request: Request, orHeader fallback: String? = nil) -> String? {
        var presented = request.headers[.authorization].flatMap { value -> String? in
            guard value.lowercased().hasPrefix("bearer ") else { return nil }
            return String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if presented == nil, let fallback, let name = HTTPField.Name(fallback) { presented = request.headers[name] }
        guard let presented, !presented.isEmpty else { return nil }
        return presented
    }
}

/// Secrets (API keys, bearer tokens) and what each one grants. A lookup compares the presented
/// secret with every configured one, in full, so its time does not depend on which secret (if
/// any) matched or where it differed. Secrets are never logged.
public struct SecretTable<Grant: Sendable>: Sendable {
    private let entries: [(secret: [UInt8], grant: Grant)]

    public init(_ entries: [(secret: String, grant: Grant)]) {
        self.entries = entries.map { (Array($0.secret.utf8), $0.grant) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func grant(for presented: String) -> Grant? {
        let candidate = Array(presented.utf8)
        var match: Grant?
        for entry in entries where Self.constantTimeEqual(entry.secret, candidate) {
            match = match ?? entry.grant
        }
        return match
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

/// Request bodies as the services' APIs read them.
public enum JSONRequestBody {
    /// The body's bytes, refused with 413 beyond `maxBytes` (by `Content-Length` or as read).
    public static func bytes(of request: Request, maxBytes: Int) async throws -> [UInt8] {
        let tooLarge = HTTPRefusal(.contentTooLarge, "too_large", "The body is larger than \(maxBytes) bytes.")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes { throw tooLarge }
        do {
            return Array(try await request.body.collect(upTo: maxBytes).readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }

    /// The body as a JSON object: 400 when it is not UTF-8 or not JSON (depth and duplicate
    /// members checked by `JSONParser`), 422 when it is JSON but not an object. An empty body
    /// is an empty object when `emptyIsObject`.
    public static func object(of request: Request, maxBytes: Int, emptyIsObject: Bool = false) async throws -> [String: JSONValue] {
        let bytes = try await Self.bytes(of: request, maxBytes: maxBytes)
        if emptyIsObject, bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw HTTPRefusal(.badRequest, "not_utf8", "The body is not valid UTF-8.")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw HTTPRefusal(.badRequest, "not_json", "The body is not JSON: \(error).")
        }
        guard case .object(let members) = document else {
            throw HTTPRefusal(.unprocessableContent, "not_an_object", "The body must be a JSON object, found \(document.kindName).")
        }
        return members
    }
}

/// Where an API writes a record and waits for the broker's acknowledgement before answering.
public protocol AcknowledgedSink: Sendable {
    /// False while the brokers are known to be unreachable (the API answers 503 at once).
    var isAvailable: Bool { get }
    /// Writes the record and returns once the broker acknowledged it.
    func write(_ record: OutgoingRecord) async throws -> DeliveryReceipt
}

/// An `AcknowledgedSink` over the service's producer, giving up after `timeout`.
public struct PublisherSink: AcknowledgedSink {
    let publisher: any RecordPublisher
    let available: @Sendable () -> Bool
    let timeout: Duration

    public init(publisher: any RecordPublisher, timeout: Duration = .seconds(10), available: @escaping @Sendable () -> Bool) {
        self.publisher = publisher
        self.timeout = timeout
        self.available = available
    }

    public var isAvailable: Bool { available() }

    public func write(_ record: OutgoingRecord) async throws -> DeliveryReceipt {
        let publisher = self.publisher
        let timeout = self.timeout
        return try await withThrowingTaskGroup(of: DeliveryReceipt?.self) { group in
            group.addTask { try await publisher.publish(record) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let receipt = try await group.next() ?? nil else {
                throw BusError.unavailable("no acknowledgement within \(timeout)")
            }
            return receipt
        }
    }
}
