import EscalationService
import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

extension TicketInputs {
    func rejected(at time: Date) -> OutgoingRecord {
        record(Topics.rejected, emitter: "intake", cause: "rejected", at: time,
               TicketRejected(organizationId: "initech", reason: .ineligiblePlan,
                              message: "Organization initech is on the free plan, which does not include support."))
    }

    func routedToDocs(at time: Date) -> OutgoingRecord {
        record(Topics.docsFeedback, emitter: "classifier", cause: "docs", at: time,
               TicketRoutedToDocs(subject: "Typo in the KB", reason: "category is documentation"))
    }
}

/// Only supported tickets are escalated: a request before the classification waits for it, one
/// for a rejected or documentation ticket is refused and the customer told why.
@Suite("escalation of supported tickets only")
struct SupportedTicketTests {
    let ticket = TicketInputs("CRM-HELD")
    let cc = ["escalations@support.example"]

    @Test func aRequestBeforeTheClassificationIsHeldThenMadeAsOfWhenItWasAsked() throws {
        let driver = PartitionDriver()
        let ask = ticket.customerMessage(at: monday, cc: cc)
        #expect(try driver.handle(ask).isEmpty)
        #expect(driver.state.ticket(ticket.ticketId)?.held?.expiresAt == monday.addingTimeInterval(600))
        #expect(driver.state.nextDeadline == monday.addingTimeInterval(600))
        // The state survives the changelog.
        let restored = try WireJSON.decode(TicketEscalation.self, from: driver.state.changelogValue(forKey: ticket.ticketId.rawValue)!)
        #expect(restored.held == driver.state.ticket(ticket.ticketId)?.held)

        let records = try driver.handle(ticket.classified(.major, openedAt: monday))
        #expect(types(records) == ["escalation.events:escalation.requested", "notifications:notification", "notifications:notification"])
        #expect(records[0].member("causedBy") == .string(ask.envelope.eventId.rawValue))
        #expect(records[0].member("at") == .string("2026-03-09T16:00:00Z"))
        #expect(driver.state.ticket(ticket.ticketId)?.held == nil)
        #expect(driver.state.nextDeadline == nil)
    }

    @Test(arguments: ["rejected", "docs"])
    func aRequestForARejectedOrDocumentationTicketIsRefusedAndTheCustomerToldWhy(kind: String) throws {
        for order in ["request first", "request last"] {
            let driver = PartitionDriver()
            let unsupported = kind == "rejected" ? ticket.rejected(at: monday) : ticket.routedToDocs(at: monday)
            var records = [OutgoingRecord]()
            if order == "request first" {
                #expect(try driver.handle(ticket.customerMessage(at: monday, cc: cc)).isEmpty)
                records = try driver.handle(unsupported)
            } else {
                _ = try driver.handle(unsupported)
                records = try driver.handle(ticket.customerMessage(at: monday.addingTimeInterval(60), cc: cc))
            }
            #expect(types(records) == ["escalation.events:escalation.requestRefused", "notifications:notification"], "\(kind), \(order)")
            #expect(records[0].member("reason") == .string(kind == "rejected" ? "rejected" : "documentation"))
            #expect(records[1].member("audience") == .string("customer"))
            #expect(records[1].member("recipient") == .string("it-admin@acme.test"))
            let text = records[1].member("text").map { "\($0)" } ?? ""
            #expect(kind == "rejected" ? text.contains("free plan") : text.contains(SLAPolicy.standardDocumentationForm), "\(text)")
            #expect(driver.state.ticket(ticket.ticketId)?.escalation.state == EscalationState.none)
        }
    }

    @Test func aRequestNeverClassifiedEndsAsARefusalWhenTheHoldEnds() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.customerMessage(at: monday, cc: cc))
        #expect(driver.fire(monday.addingTimeInterval(599)).isEmpty)
        let records = driver.fire(monday.addingTimeInterval(600))
        #expect(types(records) == ["escalation.events:escalation.requestRefused", "notifications:notification"])
        #expect(records[0].member("reason") == .string("notClassified"))
        #expect(records[0].member("at") == .string("2026-03-09T16:10:00Z"))
        #expect(driver.fire(monday.addingTimeInterval(3600)).isEmpty, "refused once")
        // The classification arriving later starts nothing on its own.
        #expect(try driver.handle(ticket.classified(.major, openedAt: monday)).allSatisfy { $0.topic != Topics.escalationEvents })
    }

    @Test func aBreachSeenBeforeTheClassificationWaitsForIt() throws {
        let driver = PartitionDriver()
        #expect(try driver.handle(ticket.breached(.critical, dueAt: monday)).isEmpty)
        #expect(types(try driver.handle(ticket.classified(.critical, openedAt: monday))).first == "escalation.events:escalation.requested")
    }

    @Test func aRefusalFoundPublishedAfterARestartHasItsCustomerToldAgain() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.customerMessage(at: monday, cc: cc))
        let saved = try #require(driver.state.changelogValue(forKey: ticket.ticketId.rawValue))
        let records = try driver.handle(ticket.rejected(at: monday))
        #expect(types(records) == ["escalation.events:escalation.requestRefused", "notifications:notification"])
        // Only the refusal reached the broker: the new owner restores, observes it, and tells the customer.
        let restarted = PartitionDriver()
        try restarted.state.restore(ConsumerRecord(topic: Topics.escalationChangelog, partition: 0, offset: 0,
                                                   key: Array(ticket.ticketId.rawValue.utf8), value: saved, headers: [], timestamp: monday))
        let resent = restarted.state.observe(published: consumed(records[0], offset: 0)).records
        #expect(resent == [records[1]], "the same notification, byte for byte")
        #expect(restarted.state.ticket(ticket.ticketId)?.held == nil)
    }

    @Test func theHoldRunsFromWhenTheRequestReachedKafka() throws {
        let driver = PartitionDriver()
        // A CC reply sent an hour ago, published now.
        let late = ticket.customerMessage(at: monday.addingTimeInterval(-3600), cc: cc)
        #expect(try driver.handle(late, publishedAt: monday).isEmpty)
        #expect(driver.state.ticket(ticket.ticketId)?.held?.expiresAt == monday.addingTimeInterval(600))
    }
}
