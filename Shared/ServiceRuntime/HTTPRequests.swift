import Foundation
import HTTPTypes
import HelpdeskModel
import Hummingbird
import Logging
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

/// What an API answers when a request fails for a reason other than a refusal: 503 while the
/// broker cannot take the record, 500 otherwise. Neither echoes the error: it is logged.
public enum APIFailure {
    public static func response(for error: any Error, logger: Logger) -> Response {
        if error is BusError {
            logger.warning("a request could not be stored", metadata: ["error": "\(error)"])
            return JSONReply.error(.serviceUnavailable, "kafka_unavailable", "Kafka could not store the request. Retry later.")
        }
        logger.error("a request failed", metadata: ["error": "\(error)"])
        return JSONReply.error(.internalServerError, "internal_error", "The request could not be handled. Retry later.")
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

/// Secrets that each belong to a name (`name=secret` pairs, comma-separated, as
/// `INTAKE_API_KEYS` and `SLA_API_TOKENS` are written). Compared in constant time, never logged.
public struct NamedSecrets: Sendable {
    private let table: SecretTable<String>

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public init(_ pairs: [(name: String, secret: String)]) {
        table = SecretTable(pairs.map { ($0.secret, $0.name) })
    }

    /// Parses `name=secret,…`; a secret must have at least 16 characters. The error names the
    /// entry by its place and never repeats a secret.
    public static func parse(
        _ text: String, variable: String, nameKind: String = "name", secretKind: String = "token"
    ) throws(ParseError) -> NamedSecrets {
        var pairs = [(name: String, secret: String)]()
        for (index, item) in text.split(separator: ",").enumerated() {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].count >= 16 else {
                throw ParseError(description: "\(variable) entry \(index + 1) must be \(nameKind)=\(secretKind) with a "
                    + "\(secretKind) of at least 16 characters")
            }
            pairs.append((parts[0], parts[1]))
        }
        return NamedSecrets(pairs)
    }

    public var isEmpty: Bool { table.isEmpty }

    /// The name a presented secret belongs to.
    public func name(for presented: String) -> String? { table.grant(for: presented) }
}

/// Request bodies as the services' APIs read them.
public enum JSONRequestBody {
    /// The body's bytes, refused with 413 beyond `maxBytes` (by `Content-Length` or as read,
    /// chunked or not) and with 400 when the connection fails while it is read.
    public static func bytes(of request: Request, maxBytes: Int) async throws -> [UInt8] {
        let tooLarge = HTTPRefusal(.contentTooLarge, "too_large", "The body is larger than \(maxBytes) bytes.")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes { throw tooLarge }
        do {
            return Array(try await request.body.collect(upTo: maxBytes).readableBytesView)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw HTTPRefusal(.badRequest, "body_unreadable", "The body could not be read to its end.")
        }
    }

    /// Refuses with 415 a body that is not `application/json` (a `charset` other than UTF-8
    /// included) or that is compressed (`Content-Encoding` other than `identity`). A request
    /// without a body needs no type when `emptyIsObject`.
    public static func checkMediaType(of request: Request, emptyIsObject: Bool) throws {
        if let encoding = request.headers[.contentEncoding]?.trimmingCharacters(in: .whitespaces).lowercased(),
            !encoding.isEmpty, encoding != "identity"
        {
            throw HTTPRefusal(.unsupportedMediaType, "unsupported_encoding",
                              "Bodies are read as sent: a Content-Encoding other than identity is not supported.")
        }
        guard let type = request.headers[.contentType] else {
            if emptyIsObject, request.headers[.contentLength] == nil || request.headers[.contentLength] == "0",
                request.headers[.transferEncoding] == nil
            {
                return
            }
            throw HTTPRefusal(.unsupportedMediaType, "unsupported_media_type", "Send the body as Content-Type: application/json.")
        }
        let parts = type.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let charset = parts.dropFirst().first { $0.hasPrefix("charset=") }.map { $0.dropFirst(8).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        guard parts.first == "application/json", charset == nil || charset == "utf-8" else {
            throw HTTPRefusal(.unsupportedMediaType, "unsupported_media_type",
                              "The body must be Content-Type: application/json (UTF-8).")
        }
    }

    /// The body as a JSON object: 415 when it is not declared JSON, 400 when it is not UTF-8 or
    /// not JSON (depth and duplicate members checked by `JSONParser`), 422 when it is JSON but not
    /// an object. An empty body is an empty object when `emptyIsObject`.
    public static func object(of request: Request, maxBytes: Int, emptyIsObject: Bool = false) async throws -> [String: JSONValue] {
        try checkMediaType(of: request, emptyIsObject: emptyIsObject)
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

/// Path parameters as the APIs read them: each segment percent-decoded once, so
/// `/v1/tickets/crm/%C3%A9` and `/v1/tickets/crm/a%2Fb` address the tickets `é` and `a/b`.
public enum PathParameter {
    public static func decoded(_ name: String, in context: some RequestContext) throws -> String {
        let raw = try context.parameters.require(name)
        guard let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw HTTPRefusal(.badRequest, "invalid_path", "The path segment {\(name)} is not valid percent-encoded UTF-8.")
        }
        return decoded
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
