import Foundation
import HelpdeskModel
import Testing

@Suite struct EventCodingTests {
    let ticket = TicketID(source: "crm", externalId: "CRM-1042")
    let opened = ISO8601.parse("2026-03-06T23:30:00Z")!

    @Test func eventsAreFlatCamelCaseJSONWithUTCInstants() throws {
        let event = Event(
            emittedBy: "sla-timer", causedBy: "tickets.classified/3/17", ticketId: ticket, source: "crm",
            externalId: "CRM-1042", at: opened,
            payload: SLAStarted(severity: .critical, startedAt: opened, dueAt: ISO8601.parse("2026-03-09T17:00:00Z")!))
        let json = String(decoding: try WireJSON.encode(event), as: UTF8.self)
        #expect(json == #"{"at":"2026-03-06T23:30:00Z","dueAt":"2026-03-09T17:00:00Z","eventId":"\#(event.eventId)","externalId":"CRM-1042","metric":"firstResponse","severity":"critical","source":"crm","startedAt":"2026-03-06T23:30:00Z","ticketId":"\#(ticket)","type":"sla.started"}"#)
        let decoded = try WireJSON.decode(Event<SLAStarted>.self, from: Array(json.utf8))
        #expect(decoded == event)
        let envelope = try WireJSON.decode(EventEnvelope.self, from: Array(json.utf8))
        #expect(envelope.type == "sla.started")
        #expect(envelope.eventId == event.eventId)
    }

    @Test func theSameCauseYieldsTheSameEventID() {
        func make(_ cause: String) -> Event<SLABreached> {
            Event(emittedBy: "sla-timer", causedBy: cause, ticketId: ticket, source: "crm", externalId: "CRM-1042",
                  at: opened, payload: SLABreached(severity: .major, dueAt: opened))
        }
        #expect(make("due").eventId == make("due").eventId)
        #expect(make("due").eventId != make("due-again").eventId)
        let other = Event(emittedBy: "sla-timer", causedBy: "due", ticketId: ticket, source: "crm", externalId: "CRM-1042",
                          at: opened, payload: SLAMet(dueAt: opened, respondedAt: opened, businessSecondsUsed: 0))
        #expect(other.eventId != make("due").eventId)
    }

    @Test func decodingAnotherTypeFails() throws {
        let event = Event(emittedBy: "x", causedBy: "y", ticketId: ticket, source: "crm", externalId: "CRM-1042",
                          at: opened, payload: SLAStopped(reason: "solved"))
        let bytes = try WireJSON.encode(event)
        #expect(throws: DecodingError.self) { try WireJSON.decode(Event<SLAMet>.self, from: bytes) }
    }

    @Test func cloudEventHeadersDescribeTheEvent() {
        let event = Event(emittedBy: "classifier", causedBy: "c", ticketId: ticket, source: "crm", externalId: "CRM-1042",
                          at: opened, payload: TicketRoutedToDocs(subject: "Typo", reason: "category documentation"))
        let headers = Dictionary(uniqueKeysWithValues: CloudEventHeaders.make(for: event, producer: "classifier"))
        #expect(headers["ce_specversion"] == "1.0")
        #expect(headers["ce_id"] == event.eventId.rawValue)
        #expect(headers["ce_type"] == "ticket.routedToDocs")
        #expect(headers["ce_source"] == "/helpdesk/classifier")
        #expect(headers["ce_time"] == "2026-03-06T23:30:00Z")
        #expect(headers["content-type"] == "application/json")
    }

    /// An escalation with history and a recorded condition (an enum-keyed dictionary).
    func evaluatedEscalation(by engineer: EscalationActor) throws -> TicketEscalation {
        var escalation = Escalation()
        _ = try escalation.apply(.request(by: engineer, via: .api), at: opened)
        _ = try escalation.apply(.evaluate(engineer: engineer.name, by: engineer), at: opened)
        _ = try escalation.apply(.recordCondition(.partiesAgreed, by: engineer, note: "n"), at: opened)
        var ticketEscalation = TicketEscalation(ticketId: ticket, source: "crm", externalId: "CRM-1042", severity: .major)
        ticketEscalation.escalation = escalation
        ticketEscalation.markHandled("cause-1")
        return ticketEscalation
    }

    @Test func theWireEncoderWritesWhatJSONEncoderWritesForAnyShape() throws {
        func same<T: Encodable>(_ value: T, _ what: String) throws {
            let fast = try WireJSON.encode(value)
            let reference = Array(try WireJSON.encoder().encode(value))
            #expect(fast == reference, "\(what): \(String(decoding: fast, as: UTF8.self)) vs \(String(decoding: reference, as: UTF8.self))")
        }
        let awkward = "quote \" backslash \\ slash / tab \t newline \n return \r bell \u{07} bs \u{08} ff \u{0C} nul \u{00} é 漢字 😇"
        try same(TicketMessagePosted(author: Author(role: .customer, email: "a@b.c", name: awkward), isPublic: false, body: awkward,
                                     cc: [awkward, ""], sentAt: opened), "strings")
        for confidence in [0.0, 1.0, 0.9, 1.0 / 3.0, 1.5e-7, 123456.789, -2.5, 1e20] {
            try same(TicketClassified(severity: .critical, signals: [], confidence: confidence, reportedSeverity: .minor,
                                      disagreesWithReporter: true, needsDedicatedContact: false, openedAt: opened), "confidence \(confidence)")
        }
        let engineer = EscalationActor("eve", role: .engineer)
        let ticketEscalation = try evaluatedEscalation(by: engineer)
        try same(ticketEscalation, "a ticket escalation (enum-keyed dictionary, history)")
        try same(EscalationStatus(ticketEscalation), "an escalation status (string-keyed dictionary)")
        try same(EscalationCommandRecord(commandId: "c", ticketId: ticket, command: .recordCondition(.actionPlanConfirmed, by: engineer, note: nil),
                                         issuedBy: "eve", issuedAt: opened), "a command record")
        try same(["b": [1, 2], "a": [], "B": [3]], "nested arrays, keys of both cases")
        try same([Int?.none, 1], "nulls in arrays")
        struct Numbers: Encodable {
            var small: UInt8 = 200, short: Int16 = -3, unsigned: UInt = 7, wide: UInt64 = .max, float: Float = 0.5, half: Float = 2
        }
        try same(Numbers(), "other number types")
    }

    @Test func theWireDecoderReadsWhatJSONDecoderReadsAndRefusesWhatItRefuses() throws {
        func same<T: Codable & Equatable>(_ value: T, _ what: String) throws {
            let bytes = try WireJSON.encode(value)
            let reference = try WireJSON.decoder().decode(T.self, from: Data(bytes))
            #expect(try WireJSON.decode(T.self, from: bytes) == reference, "\(what)")
            #expect(reference == value, "\(what)")
        }
        let engineer = EscalationActor("eve", role: .engineer)
        let ticketEscalation = try evaluatedEscalation(by: engineer)
        try same(ticketEscalation, "a ticket escalation (enum-keyed dictionary, history)")
        try same(EscalationCommandRecord(commandId: "c", ticketId: ticket, command: .recordCondition(.actionPlanConfirmed, by: engineer, note: nil),
                                         issuedBy: "eve", issuedAt: opened), "a command record")
        let awkward = "quote \" backslash \\ tab \t é 漢字 😇 \u{00}"
        try same(TicketMessagePosted(author: Author(role: .customer, email: "a@b.c", name: awkward), isPublic: false, body: awkward,
                                     cc: [awkward, ""], sentAt: opened), "escaped strings")
        try same(["b": [1, 2], "a": [], "B": [3]], "nested arrays")
        try same([Int?.none, 1], "nulls in arrays")
        struct Numbers: Codable, Equatable {
            var small: UInt8 = 200, short: Int16 = -3, unsigned: UInt = 7, wide: UInt64 = .max, float: Float = 0.5, ratio = 1.0 / 3.0
            var big: Int64 = .min, optional: Int? = nil
        }
        try same(Numbers(), "other number types")

        let event = Event(emittedBy: "t", causedBy: "c", ticketId: ticket, source: "crm", externalId: "CRM-1042", at: opened,
                          payload: SLAWarning(dueAt: opened, remainingSeconds: 900))
        let good = String(decoding: try WireJSON.encode(event), as: UTF8.self)
        let refused = [
            "": "no document", "{": "truncated", good + "x": "trailing data", "[]": "an array for an object",
            good.replacingOccurrences(of: #""remainingSeconds":900"#, with: #""remainingSeconds":"900""#): "a string for a number",
            good.replacingOccurrences(of: #""remainingSeconds":900"#, with: #""remainingSeconds":9.5"#): "a fraction for an integer",
            good.replacingOccurrences(of: #""remainingSeconds":900"#, with: #""remainingSeconds":null"#): "null for a number",
            good.replacingOccurrences(of: #""remainingSeconds":900,"#, with: ""): "a missing member",
            good.replacingOccurrences(of: "2026-03-06T23:30:00Z", with: "2026-03-06 23:30"): "an instant without a zone",
            good.replacingOccurrences(of: "sla.warning", with: "sla.met"): "another event type",
        ]
        for (text, what) in refused {
            let bytes = Array(text.utf8)
            #expect(throws: (any Error).self, "\(what): JSONDecoder") { try WireJSON.decoder().decode(Event<SLAWarning>.self, from: Data(bytes)) }
            #expect(throws: (any Error).self, "\(what): the wire decoder") { try WireJSON.decode(Event<SLAWarning>.self, from: bytes) }
        }
    }

    @Test func everyPayloadRoundTrips() throws {
        func roundTrip<P: EventPayload>(_ payload: P) throws {
            let event = Event(emittedBy: "t", causedBy: "c", ticketId: ticket, source: "crm", externalId: "CRM-1042",
                              at: opened, payload: payload)
            #expect(try WireJSON.decode(Event<P>.self, from: WireJSON.encode(event)) == event)
            #expect(try WireJSON.encode(event) == Array(WireJSON.encoder().encode(event)), "\(P.type): the fast encoder writes JSONEncoder's bytes")
        }
        try roundTrip(TicketReceived(organizationId: "acme", subject: "s", description: nil, requester: nil,
                                     reportedSeverity: .major, impact: Impact(usersAffected: .few), category: .question,
                                     openedAt: opened, receivedAt: opened))
        try roundTrip(TicketMessagePosted(author: Author(role: .agent), isPublic: true, body: "b", cc: [], sentAt: opened))
        try roundTrip(TicketSeverityChanged(severity: .minor, changedBy: "sam", reason: nil, changedAt: opened))
        try roundTrip(TicketStatusChanged(status: .solved, changedAt: opened))
        try roundTrip(TicketRejected(organizationId: "initech", reason: .ineligiblePlan, message: "m"))
        try roundTrip(TicketClassified(severity: .critical, signals: [ClassificationSignal(signal: "serviceDown", criterion: "service down", severity: .critical, foundIn: "impact.serviceDown")], confidence: 0.9, reportedSeverity: nil, disagreesWithReporter: false, needsDedicatedContact: true, openedAt: opened))
        try roundTrip(TicketRoutedToDocs(subject: "s", reason: "r"))
        try roundTrip(SLAWarning(dueAt: opened, remainingSeconds: 900))
        try roundTrip(SLAMet(dueAt: opened, respondedAt: opened, businessSecondsUsed: 60))
        try roundTrip(SLARecalculated(oldSeverity: .minor, severity: .critical, dueAt: opened))
        try roundTrip(EscalationRequested(by: "c@acme.test", via: .ccReply))
        try roundTrip(EscalationEvaluating(engineer: "eve", by: "max"))
        try roundTrip(EscalationEscalated(by: "eve"))
        try roundTrip(EscalationConditionRecorded(condition: .partiesAgreed, by: "eve", note: nil))
        try roundTrip(EscalationDeEscalated(by: "eve"))
        try roundTrip(EscalationDeEscalationRefused(by: "eve", missing: [.actionPlanConfirmed]))
        try roundTrip(EscalationCommandRefused(command: "evaluate", by: "eve", reason: "r"))
        try roundTrip(Notification(audience: .escalationEngineer, kind: .escalationAssigned, recipient: "eve", severity: nil, subject: "s", text: "t", causedBy: EventID.derive(["x"])))
        try roundTrip(Notification(audience: .management, kind: nil, severity: .critical, subject: "s", text: "t", causedBy: EventID.derive(["x"])))
        let delivery = NotificationDelivery(notificationId: EventID.derive(["n"]), audience: .supportLead, kind: .slaBreached,
                                            channel: .email, route: "leads", recipient: "lead@support.example", attempts: 2)
        try roundTrip(NotificationDelivered(delivery, latencyMs: 120, deliveredAt: opened))
        try roundTrip(NotificationFailed(delivery, code: "smtp_550", reason: "r", failedAt: opened))
        // On the wire the delivery's fields sit flat beside the record's own.
        let wire = String(decoding: try WireJSON.encode(Event(emittedBy: "t", causedBy: "c", ticketId: ticket, source: "crm",
            externalId: "CRM-1042", at: opened, payload: NotificationFailed(delivery, code: "smtp_550", reason: "r", failedAt: opened))),
            as: UTF8.self)
        #expect(wire.contains(#""recipient":"lead@support.example""#) && wire.contains(#""code":"smtp_550""#) && !wire.contains("delivery"))
    }
}
