import Foundation
import HTTPTypes
import HelpdeskModel
import Hummingbird
import Logging
import MessageBus
import ServiceRuntime

/// Intake's HTTP API for systems that cannot speak Kafka. Each accepted request is written to
/// `tickets.inbound` and answered 202 only after Kafka acknowledged it.
public struct IntakeAPI: Sendable {
    public static let maxBodyBytes = 256 * 1024

    let keys: APIKeys
    let sink: any AcknowledgedSink
    let eligibility: Eligibility
    let window: InstantWindow
    let outlook: FirstResponseOutlook?
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        keys: APIKeys, sink: any AcknowledgedSink, eligibility: Eligibility, window: InstantWindow = .standard,
        outlook: FirstResponseOutlook? = nil, now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "intake-api")
    ) {
        self.logger = logger
        self.outlook = outlook
        self.keys = keys
        self.sink = sink
        self.eligibility = eligibility
        self.window = window
        self.now = now
    }

    public func addRoutes(to router: Router<ServiceRequestContext>) {
        let keys = self.keys
        MethodRefusal.refuseOthers(on: router, "v1/tickets", allowing: [.post])
        let tickets = router.group("v1/tickets").add(middleware: SecretAuthenticator(
            lookup: { keys.source(for: $0).map { Caller(name: $0) } }, fallbackHeader: "X-API-Key",
            missing: HTTPRefusal(.unauthorized, "missing_api_key",
                                 "Send an API key as \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\"."),
            invalid: HTTPRefusal(.unauthorized, "invalid_api_key", "The API key is not valid.")))
        tickets.post { request, context in try await accept(request, context, kind: .opened, path: nil) }
        for (path, kind) in [("messages", InboundMessage.Kind.message), ("severity", .severityChanged), ("status", .statusChanged),
                             ("assignment", .assigned)] {
            MethodRefusal.refuseOthers(on: router, RouterPath("v1/tickets/:source/:externalId/\(path)"), allowing: [.post])
            tickets.post(":source/:externalId/\(path)") { request, context in
                try await accept(request, context, kind: kind, path: try pathIdentity(context))
            }
        }
        OpenAPIRoute.add(PackageResources.openapi_yaml, to: router)
    }

    private func pathIdentity(_ context: some RequestContext) throws -> (String, String) {
        (try PathParameter.decoded("source", in: context), try PathParameter.decoded("externalId", in: context))
    }

    /// The 202 answer: the ticket's id, the id of the event intake will emit for the request
    /// and, for a new ticket of an eligible organization, what to expect of its first response.
    struct Accepted: Encodable {
        var ticketId: TicketID
        var eventId: EventID
        var firstResponse: FirstResponseOutlook.Answer?
    }

    private func accept(
        _ request: Request, _ context: ServiceRequestContext, kind: InboundMessage.Kind, path: (String, String)?
    ) async throws -> Response {
        let (message, eventId) = try await accept(request, kind: kind, path: path, keySource: try context.requireIdentity().name)
        var firstResponse: FirstResponseOutlook.Answer?
        if case .opened(let ticket) = message, eligibility.refusal(for: ticket.organizationId) == nil {
            firstResponse = outlook?.answer(plan: eligibility.organizations[ticket.organizationId],
                                            reported: ticket.reportedSeverity, openedAt: ticket.openedAt, now: now())
        }
        return try JSONReply.value(Accepted(ticketId: message.ticketId, eventId: eventId, firstResponse: firstResponse),
                                   status: .accepted)
    }

    private func accept(
        _ request: Request, kind: InboundMessage.Kind, path: (String, String)?, keySource: String
    ) async throws -> (InboundMessage, EventID) {
        var members = try await JSONRequestBody.object(of: request, maxBytes: Self.maxBodyBytes)
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
            fieldErrors += decoded?.instantErrors(receipt: now(), window: window) ?? []
        } catch {
            fieldErrors += error.fieldErrors
        }
        guard let message = decoded, fieldErrors.isEmpty else {
            throw HTTPRefusal.invalidFields(fieldErrors)
        }
        guard message.source == keySource else {
            throw HTTPRefusal(.forbidden, "wrong_source",
                              "This API key may only submit for source \"\(keySource)\", not \"\(message.source)\".")
        }
        guard sink.isAvailable else {
            throw HTTPRefusal(.serviceUnavailable, "kafka_unavailable", "Kafka is unreachable. Retry later.")
        }
        let receipt = try await sink.write(OutgoingRecord(
            topic: Topics.inbound, key: TicketID.inboundKey(source: message.source, externalId: message.externalId),
            value: JSONValue.object(members).serialized(),
            headers: [RecordHeader("content-type", "application/json"), RecordHeader("helpdesk-via", "intake-http")]))
        let eventId = IntakeProcessor.eventID(for: message, cause: IntakeProcessor.cause(of: receipt), eligibility: eligibility)
        return (message, eventId)
    }
}
