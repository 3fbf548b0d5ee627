import EscalationService
import Foundation
import HTTPTypes
import HelpdeskModel
import Hummingbird
import HummingbirdTesting
import MessageBus
import ServiceRuntime
import Synchronization
import Testing
import TestSupport

/// Tickets as the API's repository sees them.
final class TestEscalations: EscalationRepository {
    let tickets = Mutex([TicketID: TicketEscalation]())

    func escalation(of ticketId: TicketID) async throws -> TicketEscalation? { tickets.withLock { $0[ticketId] } }

    /// Puts a ticket in a state by applying commands as its owner would.
    func put(_ inputs: TicketInputs, _ commands: [EscalationCommand]) throws {
        var ticket = TicketEscalation(ticketId: inputs.ticketId, source: inputs.source, externalId: inputs.externalId, severity: .critical)
        for command in commands { _ = try ticket.escalation.apply(command, at: monday) }
        tickets.withLock { $0[inputs.ticketId] = ticket }
    }
}

let engineerToken = "engineer-token-0123456789"
let managerToken = "manager-token-0123456789"
let agentToken = "agent-token-0123456789ab"
let known = TicketInputs("CRM-42")
let requested: [EscalationCommand] = [.request(by: EscalationActor("it-admin@acme.test", role: .customer), via: .ccReply)]
let escalated = requested + [.evaluate(engineer: eve.name, by: max), .escalate(by: eve)]

func withEscalationAPI(
    _ body: @escaping @Sendable (any TestClientProtocol, TestSink, TestEscalations) async throws -> Void
) async throws {
    let sink = TestSink()
    let repository = TestEscalations()
    let tokens = try EscalationTokens.parse(
        "\(engineerToken)=engineer:\(eve.name), \(managerToken)=manager:\(max.name),\(agentToken)=agent:sam@support.example")
    let router = Router(context: ServiceRequestContext.self)
    router.add(middleware: APIFailureMiddleware())
    let ids = Atomic<Int>(0)
    EscalationAPI(tokens: tokens, repository: repository, sink: sink, now: { monday },
                  newCommandID: { "cmd-\(ids.add(1, ordering: .relaxed).newValue)" }).addRoutes(to: router)
    try await Application(router: router).test(.router) { client in try await body(client, sink, repository) }
}

func call(
    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String? = engineerToken, _ body: String = ""
) async throws -> (HTTPResponse.Status, JSONValue) {
    var headers = HTTPFields()
    if let token { headers[.authorization] = "Bearer \(token)" }
    if !body.isEmpty { headers[.contentType] = "application/json" }
    return try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body)) { response in
        (response.status, (try? JSONParser.parse(Array(response.body.readableBytesView))) ?? .null)
    }
}

let base = "/v1/escalations/\(known.ticketId.rawValue)"

@Suite("Escalation HTTP API")
struct EscalationAPITests {
    @Test func theOpenAPIDocumentIsServedAsDocsHaveItAndOtherMethodsAre405() async throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/escalation.openapi.yaml")
        let onDisk = try String(contentsOf: docs, encoding: .utf8)
        try await withEscalationAPI { client, sink, _ in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == onDisk)
            }
            for (method, uri, allowed) in [(HTTPRequest.Method.put, "/v1/escalations/\(known.ticketId.rawValue)", "GET"),
                                           (.get, "/v1/escalations/\(known.ticketId.rawValue)/escalate", "POST")] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allowed)
                }
            }
            #expect(sink.broker.records(in: Topics.escalationCommands).isEmpty)
        }
    }

    @Test func anAcceptedCommandIsWrittenKeyedByTicketAndAnswered202() async throws {
        try await withEscalationAPI { client, sink, repository in
            try repository.put(known, requested)
            let (status, body) = try await call(client, .post, "\(base)/evaluate", token: managerToken, #"{"engineer": "eve@support.example"}"#)
            #expect(status == .accepted)
            #expect(member(body, "commandId") == .string("cmd-1"))
            #expect(member(body, "ticketId") == .string(known.ticketId.rawValue))
            let written = try #require(sink.broker.records(in: Topics.escalationCommands).first)
            #expect(written.keyString == known.ticketId.rawValue)
            let command = try WireJSON.decode(EscalationCommandRecord.self, from: written.value!)
            #expect(command == EscalationCommandRecord(commandId: "cmd-1", ticketId: known.ticketId,
                                                       command: .evaluate(engineer: eve.name, by: max),
                                                       issuedBy: max.name, issuedAt: monday))
        }
    }

    @Test func namesWithControlCharactersAreRefused() async throws {
        try await withEscalationAPI { client, sink, repository in
            try repository.put(known, requested)
            let (engineer, _) = try await call(client, .post, "\(base)/evaluate", #"{"engineer": "\u001b[2J\u0000evil\r\nFAKE"}"#)
            #expect(engineer == .unprocessableContent)
            try repository.put(known, escalated)
            let (by, _) = try await call(client, .post, "\(base)/conditions", #"{"condition": "partiesAgreed", "by": "IT\nstated by: max"}"#)
            #expect(by == .unprocessableContent)
            let (note, _) = try await call(client, .post, "\(base)/conditions", #"{"condition": "partiesAgreed", "note": "line one\nline two"}"#)
            #expect(note == .accepted, "a note may have line breaks")
            #expect(sink.broker.records(in: Topics.escalationCommands).count == 1)
        }
    }

    @Test func theActorIsTheTokensHolderAndByIsFreeTextInTheNote() async throws {
        try await withEscalationAPI { client, sink, repository in
            try repository.put(known, escalated)
            let (status, _) = try await call(client, .post, "\(base)/conditions",
                                             #"{"condition": "partiesAgreed", "by": "Pat (customer's IT lead)", "note": "agreed by phone"}"#)
            #expect(status == .accepted)
            let written = try WireJSON.decode(EscalationCommandRecord.self, from: sink.broker.records(in: Topics.escalationCommands)[0].value!)
            #expect(written.command == .recordCondition(.partiesAgreed, by: eve,
                                                        note: "agreed by phone; stated by: Pat (customer's IT lead)"))
            #expect(written.issuedBy == eve.name)
            // One engineer token cannot record conditions as three people, nor any other command as someone else.
            for route in ["escalate", "de-escalate", "request"] {
                let (refused, body) = try await call(client, .post, "\(base)/\(route)", #"{"by": "it-admin@acme.test"}"#)
                #expect(refused == .unprocessableContent)
                #expect(member(body, "error") == .string("invalid_fields"))
            }
            #expect(sink.broker.records(in: Topics.escalationCommands).count == 1)
        }
    }

    @Test func deEscalationWithConditionsVisiblyMissingIs409NamingThem() async throws {
        try await withEscalationAPI { client, sink, repository in
            try repository.put(known, escalated)
            var (status, body) = try await call(client, .post, "\(base)/de-escalate", token: managerToken)
            #expect(status == .conflict)
            #expect(member(body, "error") == .string("conditions_missing"))
            #expect(member(body, "missing") == .array([.string("actionPlanConfirmed"), .string("troubleshootingVerified"), .string("partiesAgreed")]))
            try repository.put(known, escalated + [.recordCondition(.actionPlanConfirmed, by: eve, note: nil),
                                                   .recordCondition(.partiesAgreed, by: eve, note: nil)])
            (status, body) = try await call(client, .post, "\(base)/de-escalate", token: managerToken, "{}")
            #expect(status == .conflict)
            #expect(member(body, "missing") == .array([.string("troubleshootingVerified")]))
            #expect(member(body, "commandId") == .string("cmd-2"), "the refused command is sent for the owner to record the refusal")
            #expect(sink.broker.records(in: Topics.escalationCommands).count == 2)
            try repository.put(known, escalated + DeEscalationCondition.allCases.map { .recordCondition($0, by: eve, note: nil) })
            (status, _) = try await call(client, .post, "\(base)/de-escalate", token: managerToken)
            #expect(status == .accepted)
        }
    }

    @Test func commandsTheStateVisiblyRefusesAre409WithTheState() async throws {
        try await withEscalationAPI { client, _, repository in
            try repository.put(known, [])
            var (status, body) = try await call(client, .post, "\(base)/escalate")
            #expect(status == .conflict)
            #expect(member(body, "error") == .string("not_allowed"))
            #expect(member(body, "state") == .string("none"))
            #expect(member(body, "message") == .string("escalate is not possible while the escalation is none."))
            try repository.put(known, escalated + [.recordCondition(.partiesAgreed, by: eve, note: nil)])
            (status, body) = try await call(client, .post, "\(base)/conditions", #"{"condition": "partiesAgreed"}"#)
            #expect(status == .conflict)
            #expect(member(body, "error") == .string("already_recorded"))
            (status, body) = try await call(client, .post, "\(base)/request", token: agentToken)
            #expect(status == .conflict)
        }
    }

    @Test func tokensAndRoles() async throws {
        try await withEscalationAPI { client, _, repository in
            try repository.put(known, requested)
            var (status, body) = try await call(client, .post, "\(base)/evaluate", token: nil, #"{"engineer": "eve"}"#)
            #expect(status == .unauthorized)
            #expect(member(body, "error") == .string("missing_token"))
            (status, body) = try await call(client, .get, base, token: "not-a-token-at-all-000")
            #expect(status == .unauthorized)
            #expect(member(body, "error") == .string("invalid_token"))
            for path in ["evaluate", "escalate", "conditions", "de-escalate"] {
                (status, body) = try await call(client, .post, "\(base)/\(path)", token: agentToken, #"{"engineer": "eve"}"#)
                #expect(status == .forbidden, "\(path)")
                #expect(member(body, "error") == .string("forbidden"))
            }
            try repository.put(known, [])
            (status, _) = try await call(client, .post, "\(base)/request", token: agentToken)
            #expect(status == .accepted, "agents may request")
        }
    }

    @Test func badBodiesAreRefusedPrecisely() async throws {
        try await withEscalationAPI { client, _, repository in
            try repository.put(known, escalated)
            var (status, body) = try await call(client, .post, "\(base)/conditions", "{not json")
            #expect(status == .badRequest)
            #expect(member(body, "error") == .string("not_json"))
            (status, body) = try await call(client, .post, "\(base)/conditions", "[1]")
            #expect(status == .unprocessableContent)
            #expect(member(body, "error") == .string("not_an_object"))
            (status, body) = try await call(client, .post, "\(base)/conditions", #"{"condition": "coffeeServed", "note": 3, "mood": "x"}"#)
            #expect(status == .unprocessableContent)
            #expect(member(body, "fieldErrors") == .array([
                .object(["field": .string("condition"), "problem": .string("must be one of actionPlanConfirmed|troubleshootingVerified|partiesAgreed")]),
                .object(["field": .string("mood"), "problem": .string("is not a field of conditions (allowed: by, condition, note); the command is recorded as the token's holder")]),
                .object(["field": .string("note"), "problem": .string("must be a string, found a number")]),
            ]))
            (status, body) = try await call(client, .post, "\(base)/conditions", "{}")
            #expect(member(body, "fieldErrors") == .array([.object(["field": .string("condition"), "problem": .string("is required")])]))
            (status, body) = try await call(client, .post, "\(base)/conditions",
                                            #"{"condition": "partiesAgreed", "note": "\#(String(repeating: "x", count: 20_000))"}"#)
            #expect(status == .contentTooLarge)
            (status, body) = try await call(client, .post, "\(base)/conditions", String(repeating: "[", count: 5_000))
            #expect(status == .badRequest, "deep nesting is refused by the parser, not by a crash")
        }
    }

    @Test func unknownTicketsAre404AndAnUnreachableKafkaIs503() async throws {
        try await withEscalationAPI { client, sink, repository in
            var (status, body) = try await call(client, .get, "/v1/escalations/tk_unknown")
            #expect(status == .notFound)
            #expect(member(body, "error") == .string("unknown_ticket"))
            (status, _) = try await call(client, .post, "/v1/escalations/tk_unknown/request")
            #expect(status == .notFound)
            try repository.put(known, [])
            sink.reachable.withLock { $0 = false }
            (status, body) = try await call(client, .post, "\(base)/request")
            #expect(status == .serviceUnavailable)
            sink.reachable.withLock { $0 = true }
            sink.failing.withLock { $0 = true }
            (status, body) = try await call(client, .post, "\(base)/request")
            #expect(status == .serviceUnavailable)
            #expect(member(body, "error") == .string("kafka_unavailable"))
        }
    }

    @Test func getAnswersStateConditionsAndHistory() async throws {
        try await withEscalationAPI { client, _, repository in
            try repository.put(known, escalated + [.recordCondition(.partiesAgreed, by: eve, note: "by phone")])
            let (status, body) = try await call(client, .get, base, token: agentToken)
            #expect(status == .ok)
            #expect(member(body, "state") == .string("escalated"))
            #expect(member(body, "engineer") == .string(eve.name))
            #expect(member(body, "missingConditions") == .array([.string("actionPlanConfirmed"), .string("troubleshootingVerified")]))
            let conditions = try #require(member(body, "conditions"))
            #expect(member(try #require(member(conditions, "partiesAgreed")), "note") == .string("by phone"))
            guard case .array(let history) = member(body, "history") else { Issue.record("no history"); return }
            #expect(history.compactMap { member($0, "type") } == [
                .string("escalation.requested"), .string("escalation.evaluating"), .string("escalation.escalated"),
                .string("escalation.conditionRecorded"),
            ])
        }
    }

    @Test func tokenListsAreParsedStrictly() throws {
        #expect(try EscalationTokens.parse("engineer-token-0123456789=engineer:eve").actor(for: engineerToken) == EscalationActor("eve", role: .engineer))
        for bad in ["short=engineer:eve", "engineer-token-0123456789=customer:eve", "engineer-token-0123456789=engineer:",
                    "engineer-token-0123456789=engineer", "no-equals-sign"] {
            #expect(throws: EscalationTokens.ParseError.self, "\(bad)") { try EscalationTokens.parse(bad) }
        }
        do {
            _ = try EscalationTokens.parse("short=engineer:eve")
        } catch {
            #expect(!error.description.contains("short"), "the error never repeats a token")
        }
    }
}
