import Foundation
import HelpdeskModel
import Hummingbird
import Logging
import MessageBus
import ServiceRuntime

/// Where the API reads a ticket's escalation.
public protocol EscalationRepository: Sendable {
    func escalation(of ticketId: TicketID) async throws -> TicketEscalation?
}

/// The ticket's latest record in the compacted `escalation.changelog`, kept by the instance's
/// `ChangelogView`: any instance answers, whoever owns the ticket. It trails the owner by one flush.
public struct ChangelogEscalations: EscalationRepository {
    let view: ChangelogView

    public init(view: ChangelogView) { self.view = view }

    public func escalation(of ticketId: TicketID) async throws -> TicketEscalation? {
        guard let value = try await view.latest(forKey: ticketId.rawValue) else { return nil }
        return try WireJSON.decode(TicketEscalation.self, from: value)
    }
}

/// The escalation HTTP API. Reads answer from the repository. Commands are written to
/// `escalation.commands` keyed by ticket, so the ticket's owner applies them in order, and
/// answered once Kafka acknowledged them: 202 with the `commandId`, or 409 when the state the
/// API sees already refuses the command (the missing conditions, or the state). Either way
/// the outcome is the event on `escalation.events` whose `causedBy` is that id.
public struct EscalationAPI: Sendable {
    public static let maxBodyBytes = 16 * 1024

    let tokens: EscalationTokens
    let repository: any EscalationRepository
    let sink: any AcknowledgedSink
    let now: @Sendable () -> Date
    let newCommandID: @Sendable () -> String
    let logger: Logger

    public init(
        tokens: EscalationTokens, repository: any EscalationRepository, sink: any AcknowledgedSink,
        now: @escaping @Sendable () -> Date = Date.init,
        newCommandID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
        logger: Logger = Logger(label: "escalation-api")
    ) {
        self.logger = logger
        self.tokens = tokens
        self.repository = repository
        self.sink = sink
        self.now = now
        self.newCommandID = newCommandID
    }

    /// A command route: the fields its body may have, and the command they make.
    private struct Route: Sendable {
        let path: String
        /// Whether agents may send it too (a request); the rest only engineers and managers may.
        var openToAgents = false
        let fields: Set<String>
        let required: Set<String>
        let make: @Sendable (_ fields: [String: String], _ actor: EscalationActor) -> EscalationCommand?
    }

    /// The actor of every command is the token's identity. `by` (conditions only) is free text
    /// naming who stated the condition, kept in the note as such, never as the actor.
    private static let routes: [Route] = [
        Route(path: "request", openToAgents: true, fields: [], required: []) { _, actor in .request(by: actor, via: .api) },
        Route(path: "evaluate", fields: ["engineer"], required: ["engineer"]) { fields, actor in
            fields["engineer"].map { .evaluate(engineer: $0, by: actor) }
        },
        Route(path: "escalate", fields: [], required: []) { _, actor in .escalate(by: actor) },
        Route(path: "conditions", fields: ["condition", "by", "note"], required: ["condition"]) { fields, actor in
            let note = [fields["note"], fields["by"].map { "stated by: \($0)" }].compactMap { $0 }.joined(separator: "; ")
            return fields["condition"].flatMap(DeEscalationCondition.init(rawValue:))
                .map { .recordCondition($0, by: actor, note: note.isEmpty ? nil : note) }
        },
        Route(path: "de-escalate", fields: [], required: []) { _, actor in .deEscalate(by: actor) },
    ]

    public func addRoutes(to router: Router<ServiceRequestContext>) {
        let tokens = self.tokens
        MethodRefusal.refuseOthers(on: router, "v1/escalations/:ticketId", allowing: [.get])
        OpenAPIRoute.add(PackageResources.openapi_yaml, to: router)
        for route in Self.routes {
            MethodRefusal.refuseOthers(on: router, RouterPath("v1/escalations/:ticketId/\(route.path)"), allowing: [.post])
        }
        let escalations = router.group("v1/escalations").add(middleware: SecretAuthenticator.bearerTokens { presented in
            tokens.actor(for: presented).map { Caller(name: $0.name, role: $0.role.rawValue) }
        })
        escalations.get(":ticketId") { _, context in
            let ticket = try await known(try PathParameter.decoded("ticketId", in: context))
            return try JSONReply.value(EscalationStatus(ticket))
        }
        for route in Self.routes {
            escalations.post(":ticketId/\(route.path)") { request, context in
                try await accept(request, ticketId: try PathParameter.decoded("ticketId", in: context), route: route,
                                 actor: try Self.actor(context))
            }
        }
    }

    /// The authenticated caller as the actor of its commands.
    private static func actor(_ context: ServiceRequestContext) throws -> EscalationActor {
        let caller = try context.requireIdentity()
        guard let role = caller.role.flatMap(EscalationActor.Role.init(rawValue:)) else {
            throw HTTPRefusal(.unauthorized, "invalid_token", "The token is not valid.")
        }
        return EscalationActor(caller.name, role: role)
    }

    private func accept(_ request: Request, ticketId: String, route: Route, actor: EscalationActor) async throws -> Response {
        guard route.openToAgents || actor.runsEscalations else {
            throw HTTPRefusal(.forbidden, "forbidden", "A token with role \(actor.role.rawValue) may not \(route.path); "
                + "only engineers and managers may.")
        }
        let members = try await JSONRequestBody.object(of: request, maxBytes: Self.maxBodyBytes, emptyIsObject: true)
        let fields = try Self.fields(members, route: route)
        guard let command = route.make(fields, actor) else {
            throw HTTPRefusal(.unprocessableContent, "invalid_fields", "The body has invalid fields.")
        }
        let ticket = try await known(ticketId)
        var refusal = Self.visibleRefusal(of: command, in: ticket.escalation, at: now())
        if case .request = command, let unsupported = ticket.unsupported {
            refusal = HTTPRefusal(.conflict, "not_supported", unsupported.message, ["reason": .string(unsupported.reason.rawValue)])
        }
        guard sink.isAvailable else {
            throw HTTPRefusal(.serviceUnavailable, "kafka_unavailable", "Kafka is unreachable. Retry later.")
        }
        // A refused command is sent all the same: the owner records the refusal on
        // `escalation.events` and in the history, which is the audit of who tried what.
        let record = EscalationCommandRecord(
            commandId: newCommandID(), ticketId: ticket.ticketId, command: command, issuedBy: actor.name, issuedAt: now())
        _ = try await sink.write(OutgoingRecord(
            topic: Topics.escalationCommands, key: ticket.ticketId.rawValue, value: try WireJSON.encode(record),
            headers: [RecordHeader("content-type", "application/json")]))
        let identity: [String: JSONValue] = [
            "commandId": .string(record.commandId), "ticketId": .string(ticket.ticketId.rawValue), "command": .string(command.name),
        ]
        if var refusal {
            refusal.extra.merge(identity) { current, _ in current }
            throw refusal
        }
        return JSONReply.make(.accepted, identity)
    }

    /// The refusal the ticket's state, as the API sees it, already shows: 409 with the state,
    /// or with the missing conditions for a de-escalation.
    private static func visibleRefusal(of command: EscalationCommand, in escalation: Escalation, at now: Date) -> HTTPRefusal? {
        var preview = escalation
        let outcome: Escalation.Event
        do throws(EscalationRefusal) {
            outcome = try preview.apply(command, at: now)
        } catch {
            return HTTPRefusal(.conflict, code(of: error), "\(error).", ["state": .string(escalation.state.rawValue)])
        }
        guard case .deEscalationRefused(let refused) = outcome else { return nil }
        return HTTPRefusal(.conflict, "conditions_missing",
                           "De-escalation needs all three conditions recorded; missing: "
                               + refused.missing.map(\.rawValue).joined(separator: ", ") + ".",
                           ["missing": .array(refused.missing.map { .string($0.rawValue) }), "state": .string(escalation.state.rawValue)])
    }

    private static func code(of refusal: EscalationRefusal) -> String {
        switch refusal {
        case .notAllowed: "not_allowed"
        case .forbidden: "forbidden"
        case .conditionAlreadyRecorded: "already_recorded"
        }
    }

    /// The body's fields as strings: every member must be one the route takes, a string of at
    /// most `EscalationCommandText.maxLength` characters; required ones present; `condition` one of the three.
    private static func fields(_ members: [String: JSONValue], route: Route) throws -> [String: String] {
        var fields = [String: String]()
        var errors = [FieldError]()
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            guard route.fields.contains(name) else {
                let allowed = route.fields.isEmpty ? "none" : route.fields.sorted().joined(separator: ", ")
                errors.append(FieldError(field: name, problem: "is not a field of \(route.path) (allowed: \(allowed)); "
                    + "the command is recorded as the token's holder"))
                continue
            }
            guard case .string(let text) = value else {
                errors.append(FieldError(field: name, problem: "must be a string, found \(value.kindName)"))
                continue
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if let problem = EscalationCommandText.problem(trimmed, allowingLineBreaks: name == "note") {
                errors.append(FieldError(field: name, problem: problem))
            } else if name == "condition", DeEscalationCondition(rawValue: trimmed) == nil {
                errors.append(FieldError(field: name, problem: "must be one of \(DeEscalationCondition.allowedValues)"))
            } else {
                fields[name] = trimmed
            }
        }
        for name in route.required.sorted() where members[name] == nil {
            errors.append(FieldError(field: name, problem: "is required"))
        }
        guard errors.isEmpty else { throw HTTPRefusal.invalidFields(errors) }
        return fields
    }

    private func known(_ ticketId: String) async throws -> TicketEscalation {
        guard let ticket = try await repository.escalation(of: TicketID(rawValue: ticketId)) else {
            throw HTTPRefusal(.notFound, "unknown_ticket", "No ticket \(ticketId) is known to escalation.")
        }
        return ticket
    }
}
