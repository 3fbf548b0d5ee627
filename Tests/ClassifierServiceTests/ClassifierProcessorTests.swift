import ClassifierService
import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import Testing

let opened = ISO8601.parse("2026-03-06T23:30:00Z")!

func received(_ payload: TicketReceived, externalId: String = "CRM-1042", offset: Int64 = 0) throws -> ConsumerRecord {
    let ticketId = TicketID(source: "crm", externalId: externalId)
    let event = Event(emittedBy: "intake", causedBy: "tickets.inbound/0/\(externalId)", ticketId: ticketId, source: "crm",
                      externalId: externalId, at: opened, payload: payload)
    return ConsumerRecord(topic: Topics.received, partition: 0, offset: offset, key: Array(ticketId.rawValue.utf8),
                          value: try WireJSON.encode(event), headers: [], timestamp: opened)
}

func ticket(_ subject: String, description: String? = nil, impact: Impact? = nil, category: TicketCategory? = nil,
            reported: Severity? = nil, requester: Requester? = nil, assignee: String? = nil, plan: String? = nil) -> TicketReceived {
    TicketReceived(organizationId: "acme", subject: subject, description: description, requester: requester,
                   reportedSeverity: reported, impact: impact, category: category, openedAt: opened, receivedAt: opened,
                   assignee: assignee, plan: plan)
}

func notification(_ record: OutgoingRecord) throws -> HelpdeskModel.Notification {
    try WireJSON.decode(Event<HelpdeskModel.Notification>.self, from: record.value!).payload
}

@Suite("Classifier service")
struct ClassifierProcessorTests {
    @Test func aSupportTicketIsClassifiedWithItsEvidence() async throws {
        let processor = ClassifierProcessor(classifier: Classifier())
        let outputs = try await processor.process(try received(ticket(
            "SSO login fails for everyone", impact: Impact(serviceDown: true, usersAffected: .majority, workaround: Workaround.none),
            reported: .major, requester: Requester(email: "it-admin@acme.test"), assignee: "sam@support.example", plan: "premium")))
        #expect(outputs.map(\.topic) == [Topics.classified, Topics.notifications, Topics.notifications])
        #expect(outputs[0].topic == Topics.classified)
        #expect(outputs[0].key == Array(TicketID(source: "crm", externalId: "CRM-1042").rawValue.utf8))
        let event = try WireJSON.decode(Event<TicketClassified>.self, from: outputs[0].value!)
        #expect(event.payload.severity == .critical)
        #expect(event.payload.openedAt == opened)
        #expect(event.payload.reportedSeverity == .major)
        #expect(event.payload.disagreesWithReporter)
        #expect(event.payload.needsDedicatedContact)
        #expect(Set(event.payload.signals.map(\.signal)).isSuperset(of: ["serviceDown", "majorityUsers", "noWorkaround"]))
        #expect(event.payload.confidence > 0.8 && event.payload.confidence < 1, "the reporter's vote for major lowers it")
        #expect(outputs[0].headers.string(for: "ce_type") == "ticket.classified")
        #expect(event.payload.assignee == "sam@support.example")
        #expect(event.payload.requesterEmail == "it-admin@acme.test")
        #expect(event.payload.plan == "premium", "handed on to the sla-timer, which runs the plan's policy")
        // Critical without a dedicated contact: the customer is asked for one, the assignee told.
        let ask = try notification(outputs[1]), tell = try notification(outputs[2])
        #expect(ask.audience == .customer && ask.recipient == "it-admin@acme.test")
        #expect(ask.text.contains("dedicated contact"))
        #expect(tell.audience == .assignee && tell.recipient == "sam@support.example")
        // With a dedicated contact named, nobody is asked.
        let named = try await processor.process(try received(ticket(
            "SSO down", impact: Impact(serviceDown: true, usersAffected: .majority, dedicatedContact: "ops@acme.test")), externalId: "CRM-NAMED"))
        #expect(named.map(\.topic) == [Topics.classified])
    }

    @Test func documentationErrorsGoToDocsFeedbackWithoutAClock() async throws {
        let processor = ClassifierProcessor(classifier: Classifier())
        let outputs = try await processor.process(try received(ticket(
            "Typo in the API docs", category: .documentation, requester: Requester(email: "it-admin@acme.test"))))
        #expect(outputs.map(\.topic) == [Topics.docsFeedback, Topics.notifications])
        let event = try WireJSON.decode(Event<TicketRoutedToDocs>.self, from: outputs[0].value!)
        #expect(event.payload.reason == #"reports a documentation mistake ("API docs", "Typo")"#)
        // The customer is told where the documentation form is.
        let told = try notification(outputs[1])
        #expect(told.audience == .customer && told.recipient == "it-admin@acme.test")
        #expect(told.text.contains(SLAPolicy.standardDocumentationForm))
    }

    @Test func aDuplicateEventIsNotClassifiedTwiceAndARedeliveryIsIdentical() async throws {
        let record = try received(ticket("Several users see errors"))
        let processor = ClassifierProcessor(classifier: Classifier())
        let first = try await processor.process(record)
        #expect(first.count == 1)
        #expect(try await processor.process(record).isEmpty)
        // Another instance (after a crash) produces exactly the same record.
        #expect(try await ClassifierProcessor(classifier: Classifier()).process(record) == first)
    }

    @Test func malformedEventsAreRefused() async {
        let processor = ClassifierProcessor(classifier: Classifier())
        let bad = ConsumerRecord(topic: Topics.received, partition: 0, offset: 0, key: nil, value: Array("{}".utf8),
                                 headers: [], timestamp: opened)
        do {
            _ = try await processor.process(bad)
            Issue.record("expected a refusal")
        } catch let error as UnprocessableRecord {
            #expect(error.code == "invalid_event")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func theLoopClassifiesDeadLettersAndDeduplicates() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        let publisher = try broker.makePublisher()
        var records = [OutgoingRecord]()
        for i in 0..<20 {
            let record = try received(ticket(i % 2 == 0 ? "Site down for everyone" : "Typo on the login page"), externalId: "T-\(i)")
            records.append(OutgoingRecord(topic: Topics.received, key: record.key, value: record.value))
            if i % 5 == 0 { records.append(OutgoingRecord(topic: Topics.received, key: record.key, value: record.value)) }
        }
        records.append(OutgoingRecord(topic: Topics.received, key: "junk", value: Array("not an event".utf8)))
        _ = try await publisher.publish(records)
        let loop = ProcessingLoop(
            service: "classifier", bus: broker, source: .init(group: "classifier", topics: [Topics.received]),
            publisher: publisher, processor: ClassifierProcessor(classifier: Classifier()),
            settings: ProcessingSettings(retryBackoff: .zero), logger: .init(label: "test"))
        let task = Task { try await loop.run() }
        let deadline = ContinuousClock.now + .seconds(60)
        while broker.records(in: Topics.classified).count < 20 || broker.records(in: Topics.deadletter).isEmpty,
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        _ = await task.result
        let classified = broker.records(in: Topics.classified)
        #expect(classified.count == 20, "four duplicates dropped")
        let severities = try classified.map { try WireJSON.decode(Event<TicketClassified>.self, from: $0.value!).payload.severity }
        #expect(severities.filter { $0 == .critical }.count == 10)
        #expect(severities.filter { $0 == .minor }.count == 10)
        #expect(broker.records(in: Topics.deadletter).count == 1)
    }
}
