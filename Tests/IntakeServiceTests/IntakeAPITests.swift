import Foundation
import HTTPTypes
import HelpdeskModel
import Hummingbird
import HummingbirdTesting
import IntakeService
import MessageBus
import ServiceRuntime
import Synchronization
import Testing
import TestSupport

let crmKey = "crm-key-0123456789abcdef"
let mailKey = "mail-key-0123456789abcdef"

func withAPI(_ body: @escaping @Sendable (any TestClientProtocol, TestSink) async throws -> Void) async throws {
    let sink = TestSink()
    let router = Router(context: ServiceRequestContext.self)
    router.add(middleware: APIFailureMiddleware())
    IntakeAPI(keys: try APIKeys.parse("crm=\(crmKey),mail=\(mailKey)"), sink: sink, eligibility: .sample).addRoutes(to: router)
    try await Application(router: router).test(.router) { client in try await body(client, sink) }
}

func post(_ client: any TestClientProtocol, _ uri: String, key: String? = crmKey, header: HTTPField.Name = .authorization,
          contentType: String? = "application/json", _ body: String) async throws -> (HTTPResponse.Status, JSONValue) {
    var headers = HTTPFields()
    if let contentType { headers[.contentType] = contentType }
    if let key { headers[header] = header == .authorization ? "Bearer \(key)" : key }
    return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
        (response.status, (try? JSONParser.parse(Array(response.body.readableBytesView))) ?? .null)
    }
}

let openBody = #"{"source":"crm","externalId":"CRM-1042","organizationId":"acme","subject":"SSO login fails for everyone"}"#

@Suite("Intake HTTP API")
struct IntakeAPITests {
    @Test func acceptedTicketsAreWrittenAndAnswered202WithTheEventID() async throws {
        try await withAPI { client, sink in
            let (status, body) = try await post(client, "/v1/tickets", openBody)
            #expect(status == .accepted)
            let ticketId = TicketID(source: "crm", externalId: "CRM-1042")
            #expect(member(body, "ticketId") == .string(ticketId.rawValue))
            let written = try #require(sink.broker.records(in: Topics.inbound).first)
            #expect(written.keyString == "crm/CRM-1042")
            // The event intake emits for this record carries the id the API answered.
            let outputs = try await IntakeProcessor(eligibility: .sample).process(written)
            let event = try WireJSON.decode(EventEnvelope.self, from: outputs[0].value!)
            #expect(member(body, "eventId") == .string(event.eventId.rawValue))
            #expect(event.type == "ticket.received")
        }
    }

    @Test func activityRoutesTakeTheTicketFromThePath() async throws {
        try await withAPI { client, sink in
            let routes = [
                ("messages", #"{"author":{"role":"agent","email":"sam@support.example"},"body":"On it"}"#, "ticket.message"),
                ("severity", #"{"severity":"major","changedBy":"sam@support.example"}"#, "ticket.severityChanged"),
                ("status", #"{"status":"solved"}"#, "ticket.statusChanged"),
            ]
            for (route, body, type) in routes {
                let (status, answer) = try await post(client, "/v1/tickets/crm/CRM-1042/\(route)", body)
                #expect(status == .accepted, "\(route)")
                #expect(member(answer, "ticketId") == .string(TicketID(source: "crm", externalId: "CRM-1042").rawValue))
                let written = try #require(sink.broker.records(in: Topics.inbound).last)
                let message = try InboundMessage.decode(written.value!)
                #expect(message.kind.rawValue == type)
                #expect(message.externalId == "CRM-1042")
            }
            let (assigned, _) = try await post(client, "/v1/tickets/crm/CRM-1042/assignment", #"{"assignee":"sam@support.example"}"#)
            #expect(assigned == .accepted)
            let assignment = try InboundMessage.decode(try #require(sink.broker.records(in: Topics.inbound).last?.value))
            #expect(assignment == .assigned(Assignment(source: "crm", externalId: "CRM-1042", assignee: "sam@support.example")))
            let events = try await IntakeProcessor(eligibility: .sample).process(sink.broker.records(in: Topics.inbound).last!)
            #expect(events.map(\.topic) == [Topics.activity])
            #expect(events[0].headers.string(for: "ce_type") == TicketAssigned.type)
            let (mismatch, answer) = try await post(client, "/v1/tickets/crm/CRM-1042/status", #"{"externalId":"OTHER","status":"solved"}"#)
            #expect(mismatch == .unprocessableContent)
            #expect(member(answer, "fieldErrors") == .array([.object(["field": .string("externalId"), "problem": .string(#"must match the path ("CRM-1042")"#)])]))
        }
    }

    @Test func aKeyIsRequiredAndMustBeValid() async throws {
        try await withAPI { client, sink in
            let (missing, body) = try await post(client, "/v1/tickets", key: nil, openBody)
            #expect(missing == .unauthorized)
            #expect(member(body, "error") == .string("missing_api_key"))
            let (wrong, wrongBody) = try await post(client, "/v1/tickets", key: "crm-key-0123456789abcdeX", openBody)
            #expect(wrong == .unauthorized)
            #expect(member(wrongBody, "error") == .string("invalid_api_key"))
            let (viaHeader, _) = try await post(client, "/v1/tickets", header: HTTPField.Name("X-API-Key")!, openBody)
            #expect(viaHeader == .accepted)
            #expect(sink.broker.records(in: Topics.inbound).count == 1)
        }
    }

    @Test func aKeyMaySubmitForItsOwnSourceOnly() async throws {
        try await withAPI { client, sink in
            let (status, body) = try await post(client, "/v1/tickets", key: mailKey, openBody)
            #expect(status == .forbidden)
            #expect(member(body, "error") == .string("wrong_source"))
            let (pathStatus, _) = try await post(client, "/v1/tickets/crm/CRM-1/status", key: mailKey, #"{"status":"open"}"#)
            #expect(pathStatus == .forbidden)
            #expect(sink.broker.records(in: Topics.inbound).isEmpty)
        }
    }

    @Test func bodiesOver256KiBAreRefused() async throws {
        try await withAPI { client, sink in
            let description = String(repeating: "x", count: 256 * 1024)
            let (status, body) = try await post(client, "/v1/tickets",
                #"{"source":"crm","externalId":"1","organizationId":"acme","subject":"s","description":"\#(description)"}"#)
            #expect(status == .contentTooLarge)
            #expect(member(body, "error") == .string("too_large"))
            #expect(sink.broker.records(in: Topics.inbound).isEmpty)
        }
    }

    @Test func invalidBodiesListEveryFieldError() async throws {
        try await withAPI { client, _ in
            let (status, body) = try await post(client, "/v1/tickets",
                #"{"source":"crm","externalId":"1","impact":{"usersAffected":"lots"},"reportedSeverity":"urgent"}"#)
            #expect(status == .unprocessableContent)
            #expect(member(body, "error") == .string("invalid_fields"))
            guard case .array(let errors)? = member(body, "fieldErrors") else {
                Issue.record("no fieldErrors")
                return
            }
            let fields = errors.compactMap { member($0, "field") }
            #expect(fields == [.string("organizationId"), .string("subject"), .string("reportedSeverity"), .string("impact.usersAffected")])
            let (notJSON, notJSONBody) = try await post(client, "/v1/tickets", "{nope")
            #expect(notJSON == .badRequest)
            #expect(member(notJSONBody, "error") == .string("not_json"))
            let (wrongType, _) = try await post(client, "/v1/tickets", #"{"type":"ticket.message","source":"crm","externalId":"1","author":{"role":"agent"}}"#)
            #expect(wrongType == .unprocessableContent)
            let (bomb, _) = try await post(client, "/v1/tickets", String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))
            #expect(bomb == .badRequest)
        }
    }

    @Test func kafkaUnreachableIs503() async throws {
        try await withAPI { client, sink in
            sink.reachable.withLock { $0 = false }
            let (down, body) = try await post(client, "/v1/tickets", openBody)
            #expect(down == .serviceUnavailable)
            #expect(member(body, "error") == .string("kafka_unavailable"))
            sink.reachable.withLock { $0 = true }
            sink.failing.withLock { $0 = true }
            let (failed, failedBody) = try await post(client, "/v1/tickets", openBody)
            #expect(failed == .serviceUnavailable)
            // The broker's error is logged, never echoed to the caller.
            #expect(member(failedBody, "message") == .string("Kafka could not store the request. Retry later."))
            #expect(sink.broker.records(in: Topics.inbound).isEmpty)
        }
    }

    @Test func otherMethodsAre405NamingTheAllowedOne() async throws {
        try await withAPI { client, sink in
            for (method, uri, allowed) in [(HTTPRequest.Method.put, "/v1/tickets", "POST"), (.get, "/v1/tickets", "POST"),
                                           (.delete, "/v1/tickets/crm/CRM-1/messages", "POST"), (.post, "/openapi.yaml", "GET")] {
                try await client.execute(uri: uri, method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allowed)
                    #expect(String(buffer: response.body).contains("method_not_allowed"))
                }
            }
            #expect(sink.broker.records(in: Topics.inbound).isEmpty)
        }
    }

    @Test func theOpenAPIDocumentIsServedAndMatchesDocs() async throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")
        let onDisk = try String(contentsOf: docs, encoding: .utf8)
        try await withAPI { client, _ in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == onDisk)
                #expect(onDisk.hasPrefix("openapi: 3.1.0"))
            }
        }
    }
}

@Suite("Intake against hostile input")
struct IntakeHostileInputTests {
    /// The refusal `process` throws for the record, or nil when it was accepted.
    func refusal(of record: ConsumerRecord) async throws -> UnprocessableRecord? {
        do {
            _ = try await processor.process(record)
            return nil
        } catch let refused as UnprocessableRecord {
            return refused
        }
    }

    @Test func ticketsDatedBeforeTheWindowAreDeadLetteredNamingTheField() async throws {
        let old = try await refusal(of: inbound(#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"s","openedAt":"0001-01-01T00:00:00Z"}"#))
        #expect(old?.code == "invalid_fields")
        #expect(old?.reason.hasPrefix("openedAt: 0001-01-01T00:00:00Z is more than 7 days before it was received") == true)
        let reply = try await refusal(of: inbound(#"{"type":"ticket.message","source":"crm","externalId":"1","author":{"role":"agent"},"sentAt":"1970-01-01T00:00:00Z"}"#))
        #expect(reply?.code == "invalid_fields")
    }

    @Test func aRecordWhoseProducerClockIsYears1970IsRefused() async throws {
        let forged = try await refusal(of: inbound(designTicket, timestamp: Date(timeIntervalSince1970: 0)))
        #expect(forged?.code == "timestamp_out_of_range")
        #expect(forged?.reason.hasPrefix("the record's timestamp 1970-01-01T00:00:00Z is more than 7 days before") == true)
    }

    @Test func theAPIRefusesOldInstantsWith422() async throws {
        try await withAPI { client, sink in
            let (status, body) = try await post(client, "/v1/tickets",
                #"{"source":"crm","externalId":"1","organizationId":"acme","subject":"s","openedAt":"1970-01-01T00:00:00Z"}"#)
            #expect(status == .unprocessableContent)
            guard case .array(let errors)? = member(body, "fieldErrors") else {
                Issue.record("no fieldErrors in \(body)")
                return
            }
            #expect(errors.compactMap { member($0, "field") } == [.string("openedAt")])
            #expect(sink.broker.records(in: Topics.inbound).isEmpty)
        }
    }

    @Test func pathSegmentsArePercentDecodedOnce() async throws {
        try await withAPI { client, sink in
            let reply = #"{"author":{"role":"agent"},"body":"On it"}"#
            for (path, externalId) in [("%C3%A9", "é"), ("a%2Fb", "a/b"), ("50%2525", "50%25")] {
                let (status, answer) = try await post(client, "/v1/tickets/crm/\(path)/messages", reply)
                #expect(status == .accepted, "\(path)")
                #expect(member(answer, "ticketId") == .string(TicketID(source: "crm", externalId: externalId).rawValue))
                let written = try InboundMessage.decode(try #require(sink.broker.records(in: Topics.inbound).last?.value))
                #expect(written.externalId == externalId)
            }
            let (bad, body) = try await post(client, "/v1/tickets/crm/%ZZ/messages", reply)
            #expect(bad == .badRequest)
            #expect(member(body, "error") == .string("invalid_path"))
        }
    }

    @Test func aChunkedBodyOver256KiBIs413WithoutInternals() async throws {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: APIFailureMiddleware())
        IntakeAPI(keys: try APIKeys.parse("crm=\(crmKey)"), sink: TestSink(), eligibility: .sample).addRoutes(to: router)
        try await Application(router: router).test(.live) { client in
            let connection = try RawConnection(port: try #require(client.port))
            var request = "POST /v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(crmKey)\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            for _ in 0..<5 { request += "10000\r\n" + String(repeating: " ", count: 65_536) + "\r\n" }
            connection.send(request + "0\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let (text, _) = await connection.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 413"))
            #expect(text.contains(#""error":"too_large""#))
            #expect(!text.contains("kafka"))
        }
    }

    /// The HTTP body path fuzzed for a bounded time (FUZZ_SECONDS, 2 s by default): every body
    /// is answered with a documented status, never a 5xx, and only 202s reach the topic.
    @Test func theBodyPathSurvivesRandomAndMutatedBytes() async throws {
        let fuzz = FuzzRun(seconds: 2)
        try await withAPI { client, sink in
            let headers: HTTPFields = [.authorization: "Bearer \(crmKey)", .contentType: "application/json"]
            let (runs, accepted) = try await fuzz.run(minimumRuns: 200) { random in
                let body = FuzzInputs.next(&random)
                let status = try await client.execute(uri: "/v1/tickets", method: .post, headers: headers,
                                                      body: ByteBuffer(bytes: body)) { $0.status }
                #expect([.accepted, .badRequest, .forbidden, .unprocessableContent].contains(status),
                        "seed \(fuzz.seed): \(status) for \(body)")
                return status == .accepted
            }
            #expect(sink.broker.records(in: Topics.inbound).count == accepted, "seed \(fuzz.seed)")
            print("fuzzed intake's body path with \(runs) bodies (\(accepted) accepted), seed \(fuzz.seed)")
        }
    }
}

/// What a new ticket's 202 says of its first response: the forecaster's outlook.
@Suite("Intake's first-response expectation")
struct FirstResponseOutlookTests {
    let now = ISO8601.parse("2026-03-02T17:00:00Z")!

    func outlook(at: Date) -> ForecastOutlook {
        func ticket(_ target: Int, late: Bool, _ text: String) -> ForecastOutlook.NewTicket {
            let due = at.addingTimeInterval(TimeInterval(target))
            return .init(expectedAt: late ? due.addingTimeInterval(2_400) : at.addingTimeInterval(600), dueAt: due,
                         targetSeconds: target, text: text)
        }
        return ForecastOutlook(
            at: at, waiting: 30, atRisk: 2, agentsOnShift: 3, serviceSeconds: [:],
            newTicket: ["critical": ticket(3_600, late: true, "within 1 business hour; currently expected by 10:40 MST"),
                        "major": ticket(14_400, late: false, "within 4 business hours"),
                        "minor": ticket(28_800, late: false, "within 8 business hours")],
            plans: ["premium": ["critical": ticket(1_800, late: false, "within 30 business minutes")]])
    }

    @Test func theReportedSeverityGetsItsOwnAnswerAndAnUnclassifiedTicketEvery() {
        let source = FirstResponseOutlook(maxAge: .seconds(300)) { outlook(at: now.addingTimeInterval(-30)) }
        let reported = try! #require(source.answer(plan: "standard", reported: .critical, now: now))
        #expect(reported.severities.map(\.severity) == [.critical])
        #expect(reported.severities[0].text == "within 1 business hour; currently expected by 10:40 MST")
        #expect(!reported.severities[0].onTarget)
        #expect(reported.forecastAt == now.addingTimeInterval(-30))
        let open = try! #require(source.answer(plan: nil, reported: nil, now: now))
        #expect(open.severities.map(\.severity) == [.critical, .major, .minor])
        #expect(open.severities[1].onTarget && open.severities[1].text == "within 4 business hours")
        // A plan with a policy of its own is told its own target.
        #expect(source.answer(plan: "premium", reported: .critical, now: now)?.severities.first?.targetSeconds == 1_800)
    }

    @Test func aStaleOrMissingOutlookIsNotTold() {
        #expect(FirstResponseOutlook(maxAge: .seconds(300)) { outlook(at: now.addingTimeInterval(-301)) }
            .answer(plan: nil, reported: nil, now: now) == nil)
        #expect(FirstResponseOutlook(maxAge: .seconds(300)) { nil }.answer(plan: nil, reported: nil, now: now) == nil)
    }

    /// The outlook is for a ticket opened when the forecast ran: a ticket pushed late, whose
    /// clock started well before, is not told it.
    @Test func aTicketOpenedWellBeforeTheForecastIsNotTold() {
        let source = FirstResponseOutlook(maxAge: .seconds(300)) { outlook(at: now.addingTimeInterval(-30)) }
        #expect(source.answer(plan: nil, reported: .major, openedAt: now.addingTimeInterval(-3 * 3_600), now: now) == nil)
        #expect(source.answer(plan: nil, reported: .major, openedAt: now.addingTimeInterval(-80), now: now) != nil,
                "opened within a minute of the forecast")
        #expect(source.answer(plan: nil, reported: .major, openedAt: now.addingTimeInterval(-91), now: now) == nil)
    }

    @Test func theAnswerToANewTicketCarriesItAndOtherRoutesDoNot() async throws {
        let sink = TestSink()
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: APIFailureMiddleware())
        let at = now
        IntakeAPI(keys: try APIKeys.parse("crm=\(crmKey)"), sink: sink, eligibility: .sample,
                  outlook: FirstResponseOutlook(maxAge: .seconds(300)) { outlook(at: at) }, now: { at })
            .addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            let standard = #"{"source":"crm","externalId":"CRM-8","organizationId":"globex","subject":"SSO down"}"#
            let (status, body) = try await post(client, "/v1/tickets", standard)
            #expect(status == .accepted)
            let answer = try #require(member(body, "firstResponse"))
            #expect(member(answer, "forecastAt") == .string("2026-03-02T17:00:00Z"))
            guard case .array(let severities)? = member(answer, "severities") else { Issue.record("\(answer)"); return }
            #expect(severities.count == 3)
            #expect(member(severities[0], "text") == .string("within 1 business hour; currently expected by 10:40 MST"))
            #expect(member(severities[0], "onTarget") == .bool(false))
            // acme is on the premium plan, whose policy has targets of its own.
            let premium = try #require(member(try await post(client, "/v1/tickets", openBody).1, "firstResponse"))
            #expect(premium == .object(["forecastAt": .string("2026-03-02T17:00:00Z"), "severities": .array([.object([
                "severity": .string("critical"), "targetSeconds": .number(1_800, text: "1800"),
                "dueAt": .string("2026-03-02T17:30:00Z"), "expectedAt": .string("2026-03-02T17:10:00Z"),
                "onTarget": .bool(true), "text": .string("within 30 business minutes")])])]))
            // An organization without support is told nothing of a response it will not get.
            let free = #"{"source":"crm","externalId":"CRM-9","organizationId":"initech","subject":"Help"}"#
            #expect(member(try await post(client, "/v1/tickets", free).1, "firstResponse") == nil)
            let message = #"{"author":{"role":"agent","email":"sam@support.example"},"body":"On it"}"#
            let (messageStatus, messageBody) = try await post(client, "/v1/tickets/crm/CRM-1042/messages", message)
            #expect(messageStatus == .accepted)
            #expect(member(messageBody, "firstResponse") == nil)
        }
    }
}
