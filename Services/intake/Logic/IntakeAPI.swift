import Foundation
import HTTPTypes
import HelpdeskModel
import Hummingbird
import MessageBus
import ServiceRuntime

/// Where the HTTP API writes inbound records: `tickets.inbound` through the producer.
public protocol InboundSink: Sendable {
    /// False while the brokers are known to be unreachable (the API answers 503 at once).
    var isAvailable: Bool { get }
    /// Writes the record and returns once the broker acknowledged it.
    func write(_ record: OutgoingRecord) async throws -> DeliveryReceipt
}

public struct PublisherSink: InboundSink {
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

/// Intake's HTTP API for systems that cannot speak Kafka. Each accepted request is written to
/// `tickets.inbound` and answered 202 only after Kafka acknowledged it.
public struct IntakeAPI: Sendable {
    public static let maxBodyBytes = 256 * 1024

    let keys: APIKeys
    let sink: any InboundSink
    let eligibility: Eligibility

    public init(keys: APIKeys, sink: any InboundSink, eligibility: Eligibility) {
        self.keys = keys
        self.sink = sink
        self.eligibility = eligibility
    }

    public func addRoutes(to router: Router<some RequestContext>) {
        router.post("v1/tickets") { request, context in
            await respond { try await accept(request, kind: .opened, path: nil) }
        }
        router.post("v1/tickets/:source/:externalId/messages") { request, context in
            await respond { try await accept(request, kind: .message, path: try pathIdentity(context)) }
        }
        router.post("v1/tickets/:source/:externalId/severity") { request, context in
            await respond { try await accept(request, kind: .severityChanged, path: try pathIdentity(context)) }
        }
        router.post("v1/tickets/:source/:externalId/status") { request, context in
            await respond { try await accept(request, kind: .statusChanged, path: try pathIdentity(context)) }
        }
        router.get("openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"],
                     body: .init(byteBuffer: ByteBuffer(string: IntakeOpenAPI.document)))
        }
    }

    /// A refusal with its HTTP status and JSON body.
    struct Refusal: Error {
        let status: HTTPResponse.Status
        let code: String
        let message: String
        var fieldErrors: [FieldError] = []
    }

    private func pathIdentity(_ context: some RequestContext) throws -> (String, String) {
        (try context.parameters.require("source"), try context.parameters.require("externalId"))
    }

    private func respond(_ body: () async throws -> (TicketID, EventID)) async -> Response {
        do {
            let (ticketId, eventId) = try await body()
            return json(.accepted, ["ticketId": .string(ticketId.rawValue), "eventId": .string(eventId.rawValue)])
        } catch let refusal as Refusal {
            var members: [String: JSONValue] = ["error": .string(refusal.code), "message": .string(refusal.message)]
            if !refusal.fieldErrors.isEmpty {
                members["fieldErrors"] = .array(refusal.fieldErrors.map {
                    .object(["field": .string($0.field), "problem": .string($0.problem)])
                })
            }
            return json(refusal.status, members)
        } catch {
            return json(.serviceUnavailable, ["error": .string("kafka_unavailable"),
                                              "message": .string("The ticket could not be stored: \(error). Retry later.")])
        }
    }

    private func json(_ status: HTTPResponse.Status, _ members: [String: JSONValue]) -> Response {
        JSONReply.make(status, members)
    }

    private func accept(_ request: Request, kind: InboundMessage.Kind, path: (String, String)?) async throws -> (TicketID, EventID) {
        let keySource = try authenticate(request)
        let bytes = try await body(of: request)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw Refusal(status: .badRequest, code: "not_utf8", message: "The body is not valid UTF-8.")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw Refusal(status: .badRequest, code: "not_json", message: "The body is not JSON: \(error).")
        }
        guard case .object(var members) = document else {
            throw Refusal(status: .unprocessableContent, code: "not_an_object", message: "The body must be a JSON object, found \(document.kindName).")
        }
        var pathErrors = [FieldError]()
        if let (source, externalId) = path {
            for (field, value) in [("source", source), ("externalId", externalId)] {
                if let given = members[field], given != .string(value) {
                    pathErrors.append(FieldError(field: field, problem: "must match the path (\"\(value)\")"))
                }
                members[field] = .string(value)
            }
        }
        if members["type"] == nil { members["type"] = .string(kind.rawValue) }
        if members["type"] != .string(kind.rawValue) {
            pathErrors.append(FieldError(field: "type", problem: "must be \(kind.rawValue) on this route"))
        }
        var fieldErrors = pathErrors
        var decoded: InboundMessage?
        do throws(InboundRejection) {
            decoded = try InboundMessage.decode(.object(members))
        } catch {
            fieldErrors += error.fieldErrors
        }
        guard let message = decoded, fieldErrors.isEmpty else {
            throw Refusal(status: .unprocessableContent, code: "invalid_fields", message: "The body has invalid fields.",
                          fieldErrors: fieldErrors)
        }
        guard message.source == keySource else {
            throw Refusal(status: .forbidden, code: "wrong_source",
                          message: "This API key may only submit for source \"\(keySource)\", not \"\(message.source)\".")
        }
        guard sink.isAvailable else {
            throw Refusal(status: .serviceUnavailable, code: "kafka_unavailable", message: "Kafka is unreachable. Retry later.")
        }
        let receipt = try await sink.write(OutgoingRecord(
            topic: Topics.inbound, key: TicketID.inboundKey(source: message.source, externalId: message.externalId),
            value: JSONValue.object(members).serialized(),
            headers: [RecordHeader("content-type", "application/json"), RecordHeader("helpdesk-via", "intake-http")]))
        let eventId = IntakeProcessor.eventID(for: message, cause: IntakeProcessor.cause(of: receipt), eligibility: eligibility)
        return (message.ticketId, eventId)
    }

    /// The key's source. Accepts `Authorization: Bearer <key>` or `X-API-Key: <key>`.
    private func authenticate(_ request: Request) throws -> String {
        var presented = request.headers[.authorization].flatMap { value -> String? in
            guard value.lowercased().hasPrefix("bearer ") else { return nil }
            return String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if presented == nil, let name = HTTPField.Name("X-API-Key") { presented = request.headers[name] }
        guard let presented, !presented.isEmpty else {
            throw Refusal(status: .unauthorized, code: "missing_api_key",
                          message: "Send an API key as \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\".")
        }
        guard let source = keys.source(for: presented) else {
            throw Refusal(status: .unauthorized, code: "invalid_api_key", message: "The API key is not valid.")
        }
        return source
    }

    private func body(of request: Request) async throws -> [UInt8] {
        let tooLarge = Refusal(status: .contentTooLarge, code: "too_large",
                               message: "The body is larger than \(Self.maxBodyBytes) bytes.")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Self.maxBodyBytes { throw tooLarge }
        do {
            let buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }
}
