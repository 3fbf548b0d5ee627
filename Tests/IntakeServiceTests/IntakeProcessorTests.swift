import Foundation
import HelpdeskModel
import IntakeService
import MessageBus
import ServiceRuntime
import Testing

let receipt = ISO8601.parse("2026-03-06T23:31:00Z")!

func inbound(_ json: String, offset: Int64 = 7, timestamp: Date = receipt) -> ConsumerRecord {
    ConsumerRecord(topic: Topics.inbound, partition: 2, offset: offset, key: Array("crm/CRM-1042".utf8),
                   value: Array(json.utf8), headers: [], timestamp: timestamp)
}

let processor = IntakeProcessor(eligibility: .sample, now: { receipt.addingTimeInterval(5) })

func decode<P: EventPayload>(_ type: P.Type, _ record: OutgoingRecord) throws -> Event<P> {
    try WireJSON.decode(Event<P>.self, from: record.value!)
}

let designTicket = """
    { "type": "ticket.opened", "source": "crm", "externalId": "CRM-1042",
      "organizationId": "acme", "subject": "SSO login fails for everyone",
      "description": "...", "requester": { "name": "A. Requester", "email": "it-admin@acme.test" },
      "reportedSeverity": "critical",
      "impact": { "serviceDown": true, "usersAffected": "majority",
                  "workaround": "none", "installations": "unaffected",
                  "cosmetic": false, "dedicatedContact": "ops@acme.test" },
      "category": "incident", "openedAt": "2026-03-06T23:30:00Z" }
    """

@Suite("Intake mapping")
struct IntakeProcessorTests {
    @Test func anEligibleTicketIsReceivedNormalized() async throws {
        let outputs = try await processor.process(inbound(designTicket))
        #expect(outputs.count == 1)
        let output = outputs[0]
        let ticketId = TicketID(source: "crm", externalId: "CRM-1042")
        #expect(output.topic == Topics.received)
        #expect(output.key == Array(ticketId.rawValue.utf8))
        let event = try decode(TicketReceived.self, output)
        #expect(event.ticketId == ticketId)
        #expect(event.eventId == EventID.derive(["intake", "ticket.received", ticketId.rawValue, "tickets.inbound/2/7"]))
        #expect(event.at == receipt)
        #expect(event.payload.receivedAt == receipt)
        #expect(event.payload.openedAt == ISO8601.parse("2026-03-06T23:30:00Z"))
        #expect(event.payload.organizationId == "acme")
        #expect(event.payload.plan == "premium", "the organization's plan, which selects the SLA policy")
        #expect(event.payload.reportedSeverity == .critical)
        #expect(event.payload.impact?.usersAffected == .majority)
        #expect(event.payload.requester?.email == "it-admin@acme.test")
        #expect(event.payload.category == .incident)
        #expect(output.headers.string(for: "ce_id") == event.eventId.rawValue)
        #expect(output.headers.string(for: "ce_type") == "ticket.received")
        #expect(output.headers.string(for: "ce_source") == "/helpdesk/intake")
    }

    @Test func openedAtDefaultsToReceiptAndIsClampedThere() async throws {
        let missing = try await processor.process(inbound(#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"s"}"#))
        #expect(try decode(TicketReceived.self, missing[0]).payload.openedAt == receipt)
        let future = try await processor.process(inbound(#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"s","openedAt":"2030-01-01T00:00:00Z"}"#))
        #expect(try decode(TicketReceived.self, future[0]).payload.openedAt == receipt)
    }

    @Test(arguments: [("nobody", TicketRejected.Reason.unknownOrganization, "not a known customer"),
                      ("initech", .ineligiblePlan, "is on the free plan, which does not include support")])
    func ineligibleOrganizationsAreRejectedNotDropped(organization: String, reason: TicketRejected.Reason, sentence: String) async throws {
        let outputs = try await processor.process(inbound(#"{"type":"ticket.opened","source":"crm","externalId":"CRM-9","organizationId":"\#(organization)","subject":"help"}"#))
        #expect(outputs.count == 1)
        #expect(outputs[0].topic == Topics.rejected)
        // Keyed by ticket, as every internal topic: escalation reads it beside the ticket's activity.
        #expect(outputs[0].key == Array(TicketID(source: "crm", externalId: "CRM-9").rawValue.utf8))
        let event = try decode(TicketRejected.self, outputs[0])
        #expect(event.payload.reason == reason)
        #expect(event.payload.organizationId == organization)
        #expect(event.payload.message.contains(sentence))
    }

    @Test func activityGoesToTicketsActivityUnderTheSameTicket() async throws {
        let ticketId = TicketID(source: "mail", externalId: "CRM-1042")
        let message = try await processor.process(inbound(#"{"type":"ticket.message","source":"mail","externalId":"CRM-1042","author":{"role":"customer","email":"it-admin@acme.test"},"public":true,"body":"Please escalate","cc":["  Escalations Team <Escalations@Support.Example> ","OPS@acme.test"],"sentAt":"2026-03-06T23:30:30Z"}"#))
        #expect(message[0].topic == Topics.activity)
        #expect(message[0].key == Array(ticketId.rawValue.utf8))
        let posted = try decode(TicketMessagePosted.self, message[0])
        #expect(posted.payload.cc == ["escalations@support.example", "ops@acme.test"])
        #expect(posted.payload.author.role == .customer)
        #expect(posted.payload.sentAt == ISO8601.parse("2026-03-06T23:30:30Z"))

        let severity = try await processor.process(inbound(#"{"type":"ticket.severityChanged","source":"mail","externalId":"CRM-1042","severity":1,"changedBy":"sam@support.example","reason":"outage confirmed"}"#))
        let changed = try decode(TicketSeverityChanged.self, severity[0])
        #expect(changed.payload.severity == .critical)
        #expect(changed.payload.changedAt == receipt)
        #expect(changed.ticketId == ticketId)

        let status = try await processor.process(inbound(#"{"type":"ticket.statusChanged","source":"mail","externalId":"CRM-1042","status":"solved"}"#))
        #expect(try decode(TicketStatusChanged.self, status[0]).payload.status == .solved)
    }

    /// Staffing rides on the inbound contract: keyed by agent, on `staffing.events`; a shift
    /// announced ahead keeps its instant, a shift dated more than 7 days back is refused.
    @Test func aShiftChangeGoesToStaffingEventsKeyedByAgent() async throws {
        let ahead = try await processor.process(inbound(#"{"type":"agent.shiftStarted","source":"wfm","externalId":"swap-7","agent":"bob@support.example","team":"tier2","at":"2026-03-07T16:00:00Z","until":"2026-03-07T20:00:00Z"}"#))
        #expect(ahead.count == 1 && ahead[0].topic == Topics.staffing && ahead[0].key == Array("bob@support.example".utf8))
        let started = try decode(AgentShiftStarted.self, ahead[0])
        #expect(started.payload.from == ISO8601.parse("2026-03-07T16:00:00Z") && started.payload.until == ISO8601.parse("2026-03-07T20:00:00Z"))
        #expect(started.payload.team == "tier2")
        let now = try await processor.process(inbound(#"{"type":"agent.shiftEnded","source":"wfm","externalId":"sick-1","agent":"ann@support.example"}"#))
        let ended = try decode(AgentShiftEnded.self, now[0])
        #expect(ended.payload.from == receipt && ended.payload.until == nil)
        await #expect(throws: UnprocessableRecord.self) {
            try await processor.process(inbound(#"{"type":"agent.shiftEnded","source":"wfm","externalId":"old","agent":"ann@support.example","at":"2026-02-01T00:00:00Z"}"#))
        }
    }

    @Test func aRedeliveredRecordYieldsIdenticalOutput() async throws {
        let first = try await processor.process(inbound(designTicket))
        let again = try await IntakeProcessor(eligibility: .sample, now: { receipt.addingTimeInterval(3600) }).process(inbound(designTicket))
        #expect(first == again)
        let elsewhere = try await processor.process(inbound(designTicket, offset: 8))
        #expect(elsewhere[0].value != first[0].value)
    }

    @Test(arguments: [
        ("{not json", "not_json", "the record is not JSON"),
        ("[1,2]", "not_an_object", "must be a JSON object, found an array"),
        (#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme"}"#, "invalid_fields", "subject: is required"),
        (#"{"type":"ticket.opened","source":"crm","externalId":1,"organizationId":"acme","subject":"s"}"#, "invalid_fields", "externalId: must be a string, found a number"),
        (#"{"type":"ticket.closed","source":"crm","externalId":"1"}"#, "invalid_fields", #"type: "ticket.closed" is not one of"#),
        (#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"s","category":"bug"}"#, "invalid_fields", #"category: "bug" is not one of incident|question|documentation"#),
        (#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"s","openedAt":"yesterday"}"#, "invalid_fields", "openedAt: \"yesterday\" is not an ISO-8601 instant"),
        (#"{"type":"ticket.opened","source":"crm","externalId":"1","organizationId":"acme","subject":"\#(String(repeating: "x", count: 1001))"}"#, "invalid_fields", "subject: is 1001 characters long, the limit is 1000"),
        ("", "empty", "the record has no value"),
    ])
    func malformedRecordsAreRefusedPrecisely(json: String, code: String, reason: String) async {
        do {
            _ = try await processor.process(inbound(json))
            Issue.record("expected a refusal")
        } catch let error as UnprocessableRecord {
            #expect(error.code == code)
            #expect(error.reason.contains(reason))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func notUTF8AndOversizeRecordsAreRefused() async {
        for (bytes, code) in [([UInt8]([0x7B, 0xC3, 0x28, 0x7D]), "not_utf8"), (Array(repeating: UInt8(0x20), count: (1 << 20) + 1), "too_large")] {
            let record = ConsumerRecord(topic: Topics.inbound, partition: 0, offset: 0, key: nil, value: bytes, headers: [], timestamp: receipt)
            await #expect(throws: UnprocessableRecord.self) { try await processor.process(record) }
            do {
                _ = try await processor.process(record)
            } catch let error as UnprocessableRecord {
                #expect(error.code == code)
            } catch {}
        }
    }
}

@Suite("Intake through the processing loop")
struct IntakeLoopTests {
    @Test func validRecordsFlowAndMalformedOnesAreDeadLetteredWhileThePartitionMovesOn() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        let publisher = try broker.makePublisher()
        var records = [OutgoingRecord]()
        for i in 0..<60 {
            let json: String
            switch i % 6 {
            case 0: json = "{broken \(i)"
            case 1: json = #"{"type":"ticket.opened","source":"crm","externalId":"X-\#(i)","organizationId":"initech","subject":"s"}"#
            default: json = #"{"type":"ticket.opened","source":"crm","externalId":"X-\#(i)","organizationId":"globex","subject":"s"}"#
            }
            // One key, one partition: malformed records sit between valid ones.
            records.append(OutgoingRecord(topic: Topics.inbound, key: "crm/same", value: Array(json.utf8)))
        }
        _ = try await publisher.publish(records)
        let loop = ProcessingLoop(
            service: "intake", bus: broker, source: .init(group: "intake", topics: [Topics.inbound]), publisher: publisher,
            processor: IntakeProcessor(eligibility: .sample), settings: ProcessingSettings(maxBatch: 7, retryBackoff: .zero),
            logger: .init(label: "test"))
        let task = Task { try await loop.run() }
        // Generous: the loop stops waiting as soon as all 60 are out; a busy test machine is slow.
        let deadline = ContinuousClock.now + .seconds(60)
        while broker.records(in: Topics.received).count + broker.records(in: Topics.rejected).count
            + broker.records(in: Topics.deadletter).count < 60, ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        _ = await task.result
        #expect(broker.records(in: Topics.received).count == 40)
        #expect(broker.records(in: Topics.rejected).count == 10)
        let dead = broker.records(in: Topics.deadletter)
        #expect(dead.count == 10)
        #expect(dead.allSatisfy { $0.headers.string(for: DeadLetter.Header.errorCode) == "not_json" && $0.key == Array("crm/same".utf8) })
        #expect(Set(dead.map { $0.headers.string(for: DeadLetter.Header.offset)! }) == Set(stride(from: 0, to: 60, by: 6).map(String.init)))
    }
}

@Suite("Intake configuration")
struct IntakeConfigurationTests {
    @Test func theDesignOrganizationsFileLoads() throws {
        let eligibility = try Eligibility.load(yaml: """
            eligiblePlans: [standard, premium]
            organizations:
              acme:    { plan: premium }
              globex:  { plan: standard }
              initech: { plan: free }      # known but not eligible
            """)
        #expect(eligibility == .sample)
        #expect(eligibility.refusal(for: "acme") == nil)
        #expect(eligibility.refusal(for: "initech")?.0 == .ineligiblePlan)
        #expect(eligibility.refusal(for: "hooli")?.0 == .unknownOrganization)
    }

    @Test(arguments: [
        ("organizations: {}", "eligiblePlans: is required"),
        ("eligiblePlans: [a]\norganizations: { acme: {} }", "organizations.acme.plan: is required"),
        ("eligiblePlans: [a]\norganisations: {}", "organisations: unknown key (expected eligiblePlans, organizations)"),
    ])
    func badOrganizationFilesAreRefused(yaml: String, message: String) {
        #expect(throws: Eligibility.LoadError(description: message)) { try Eligibility.load(yaml: yaml) }
    }

    @Test func apiKeysMapToTheirSource() throws {
        let keys = try APIKeys.parse("crm=crm-key-0123456789abcdef, mail = mail-key-0123456789abcdef")
        #expect(keys.source(for: "crm-key-0123456789abcdef") == "crm")
        #expect(keys.source(for: "mail-key-0123456789abcdef") == "mail")
        #expect(keys.source(for: "crm-key-0123456789abcdeF") == nil)
        #expect(keys.source(for: "crm-key-0123456789abcde") == nil)
        #expect(keys.source(for: "") == nil)
        #expect(throws: NamedSecrets.ParseError.self) { try APIKeys.parse("crm=short") }
        #expect(throws: NamedSecrets.ParseError.self) { try APIKeys.parse("no-equals-sign-here-at-all") }
        do {
            _ = try APIKeys.parse("crm=short")
        } catch {
            #expect(!error.description.contains("short"), "a key never appears in an error")
        }
    }
}
