import EscalationService
import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

@Suite("escalation partition")
struct EscalationPartitionTests {
    let ticket = TicketInputs("CRM-7")

    @Test func aCustomerReplyWithTheEscalationAddressInCCRequestsAnEscalationOnce() throws {
        let metrics = EscalationMetrics()
        let driver = PartitionDriver(metrics: metrics)
        #expect(try driver.handle(ticket.classified(.major, openedAt: monday)).isEmpty)
        #expect(driver.state.ticket(ticket.ticketId)?.severity == .major)

        // Not an escalation: no CC, another address, or an agent copying the address.
        #expect(try driver.handle(ticket.customerMessage(at: monday, cc: [])).isEmpty)
        #expect(try driver.handle(ticket.customerMessage(at: monday, cc: ["ops@acme.test"])).isEmpty)
        var agent = ticket.agentReply(at: monday)
        agent = ticket.record(Topics.activity, emitter: "intake", cause: "agent-cc", at: monday,
                              TicketMessagePosted(author: Author(role: .agent, email: "sam@support.example"), isPublic: true,
                                                  body: "cc escalations", cc: ["escalations@support.example"], sentAt: monday))
        #expect(try driver.handle(agent).isEmpty)

        // Display name, upper case and a plus-tag are the same mailbox.
        let reply = ticket.customerMessage(at: monday.addingTimeInterval(60), cc: ["\"Escalations\" <Escalations+ACME@Support.Example>"])
        let records = try driver.handle(reply)
        #expect(types(records) == ["escalation.events:escalation.requested", "notifications:notification", "notifications:notification"])
        #expect(records[0].member("by") == .string("it-admin@acme.test"))
        #expect(records[0].member("via") == .string("ccReply"))
        #expect(records[0].member("causedBy") == .string(reply.envelope.eventId.rawValue))
        #expect(records[0].member("at") == .string("2026-03-09T16:01:00Z"))
        #expect(records[1].member("audience") == .string("supportLead"))
        #expect(records[2].member("audience") == .string("management"), "management hears of it at the request")
        #expect(records[1].member("severity") == .string("major"))
        #expect(metrics.active(.requested) == 1)

        // The thread keeps the address in CC: later replies do not request again.
        #expect(try driver.handle(ticket.customerMessage(at: monday.addingTimeInterval(120), cc: ["escalations@support.example"])).isEmpty)
        // The same input redelivered yields nothing new.
        #expect(try driver.handle(reply).isEmpty)
        #expect(driver.state.ticket(ticket.ticketId)?.escalation.history.count == 1)
    }

    @Test func aPersonsSeverityWinsOverTheClassifiersWhicheverArrivesFirst() throws {
        let driver = PartitionDriver()
        // The agent's change reaches escalation before the classifier's minor.
        _ = try driver.handle(ticket.severityChanged(to: .critical, at: monday))
        _ = try driver.handle(ticket.classified(.minor, openedAt: monday))
        #expect(driver.state.ticket(ticket.ticketId)?.severity == .critical)
        let records = try driver.handle(ticket.customerMessage(at: monday.addingTimeInterval(60), cc: ["escalations@support.example"]))
        #expect(records.dropFirst().allSatisfy { $0.member("severity") == .string("critical") })
        // And the other way round.
        let other = TicketInputs("CRM-OTHER")
        _ = try driver.handle(other.classified(.minor, openedAt: monday))
        _ = try driver.handle(other.severityChanged(to: .major, at: monday))
        #expect(driver.state.ticket(other.ticketId)?.severity == .major)
    }

    @Test func aBreachEscalatesOnlyWhereThePolicySaysSo() throws {
        let driver = PartitionDriver()
        let critical = TicketInputs("CRM-1"), major = TicketInputs("CRM-2")
        _ = try driver.handle(critical.classified(.critical, openedAt: monday))
        _ = try driver.handle(major.classified(.major, openedAt: monday))
        let breach = critical.breached(.critical, dueAt: monday.addingTimeInterval(3600))
        let records = try driver.handle(breach)
        #expect(types(records) == ["escalation.events:escalation.requested", "notifications:notification", "notifications:notification"])
        #expect(records[0].member("via") == .string("slaBreach"))
        #expect(records[0].member("by") == .string("sla-timer"))
        #expect(records[0].member("at") == .string("2026-03-09T17:00:00Z"))
        #expect(try driver.handle(major.breached(.major, dueAt: monday.addingTimeInterval(4 * 3600))).isEmpty,
                "major: escalateOnBreach is off in the standard policy")
    }

    @Test func eachMetricAndPlanDecidesWhetherItsBreachEscalates() throws {
        let policy = try SLAPolicy.load(yaml: """
            severities:
              major:
                nextReply: { target: 4h }
                resolution: { target: 16h, escalateOnBreach: true }
            plans:
              premium:
                severities:
                  major: { escalateOnBreach: true, resolution: { target: 16h } }
            """)
        let driver = PartitionDriver(EscalationPartition(partition: 0, policy: policy, metrics: EscalationMetrics()))
        let reply = TicketInputs("CRM-R"), resolution = TicketInputs("CRM-S"), premium = TicketInputs("CRM-P")
        for ticket in [reply, resolution, premium] { _ = try driver.handle(ticket.classified(.major, openedAt: monday)) }
        let later = monday.addingTimeInterval(86_400)
        #expect(try driver.handle(reply.breached(.major, dueAt: later, metric: .nextReply, instance: 1)).isEmpty,
                "nextReply: escalateOnBreach off")
        #expect(types(try driver.handle(resolution.breached(.major, dueAt: later, metric: .resolution))).first
            == "escalation.events:escalation.requested")
        // The premium plan escalates its major first responses, and not its resolutions.
        #expect(try driver.handle(premium.breached(.major, dueAt: later, metric: .resolution, plan: "premium")).isEmpty)
        #expect(types(try driver.handle(premium.breached(.major, dueAt: monday, plan: "premium"))).first
            == "escalation.events:escalation.requested")
    }

    @Test func engineersRunTheEscalationAndDeEscalationWaitsForAllThreeConditions() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.classified(.critical, openedAt: monday))
        _ = try driver.handle(ticket.customerMessage(at: monday, cc: ["escalations@support.example"]))

        let evaluate = try driver.handle(ticket.command(.evaluate(engineer: eve.name, by: max), id: "c1"))
        #expect(types(evaluate) == ["escalation.events:escalation.evaluating", "notifications:notification"])
        #expect(evaluate[0].member("engineer") == .string(eve.name))
        #expect(evaluate[0].member("by") == .string(max.name))
        #expect(evaluate[0].member("causedBy") == .string("c1"))
        #expect(evaluate[1].member("audience") == .string("escalationEngineer"))
        #expect(evaluate[1].member("recipient") == .string(eve.name))

        let escalate = try driver.handle(ticket.command(.escalate(by: eve), id: "c2"))
        #expect(types(escalate) == ["escalation.events:escalation.escalated", "notifications:notification"])
        #expect(escalate[1].member("audience") == .string("management"))

        func deEscalate(_ id: String) throws -> [OutgoingRecord] { try driver.handle(ticket.command(.deEscalate(by: max), id: id)) }
        let refusedAll = try deEscalate("c3")
        #expect(types(refusedAll) == ["escalation.events:escalation.deEscalationRefused"])
        #expect(refusedAll[0].member("missing") == .array([.string("actionPlanConfirmed"), .string("troubleshootingVerified"), .string("partiesAgreed")]))
        _ = try driver.handle(ticket.command(.recordCondition(.actionPlanConfirmed, by: eve, note: "plan agreed on the call"), id: "c4"))
        _ = try driver.handle(ticket.command(.recordCondition(.partiesAgreed, by: eve, note: nil), id: "c5"))
        let refusedOne = try deEscalate("c6")
        #expect(refusedOne[0].member("missing") == .array([.string("troubleshootingVerified")]))
        let recorded = try driver.handle(ticket.command(.recordCondition(.troubleshootingVerified, by: max, note: nil), id: "c7"))
        #expect(types(recorded) == ["escalation.events:escalation.conditionRecorded"])
        #expect(recorded[0].member("condition") == .string("troubleshootingVerified"))
        let accepted = try deEscalate("c8")
        #expect(types(accepted) == ["escalation.events:escalation.deEscalated", "notifications:notification"])
        #expect(driver.state.ticket(ticket.ticketId)?.escalation.state == .deEscalated)

        // Re-escalation later is a new round.
        let again = try driver.handle(ticket.customerMessage(at: monday.addingTimeInterval(86_400), cc: ["escalations@support.example"]))
        #expect(types(again).first == "escalation.events:escalation.requested")
        #expect(driver.state.ticket(ticket.ticketId)?.escalation.missingConditions == DeEscalationCondition.allCases)
    }

    @Test func aCommandThatNoLongerFitsIsRefusedWithAnEventAndChangesNothing() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.classified(.critical, openedAt: monday))
        let before = driver.state.ticket(ticket.ticketId)?.escalation
        let refused = try driver.handle(ticket.command(.escalate(by: eve), id: "early"))
        #expect(types(refused) == ["escalation.events:escalation.commandRefused"])
        #expect(refused[0].member("command") == .string("escalate"))
        #expect(refused[0].member("reason") == .string("escalate is not possible while the escalation is none"))
        #expect(refused[0].member("causedBy") == .string("early"))
        #expect(driver.state.ticket(ticket.ticketId)?.escalation == before)
        // Redelivered: already handled, nothing again.
        #expect(try driver.handle(ticket.command(.escalate(by: eve), id: "early")).isEmpty)
        // A forbidden actor written to the topic directly is refused the same way.
        let customer = try driver.handle(ticket.command(.escalate(by: EscalationActor("x", role: .customer)), id: "bad-role"))
        #expect(customer[0].member("reason") == .string("a customer may not escalate; only engineers and managers may"))
    }

    @Test func badCommandsAreUnprocessable() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.classified(.critical, openedAt: monday))
        func code(_ record: OutgoingRecord) -> String? {
            do {
                _ = try driver.state.handle(consumed(record, offset: 0))
                return nil
            } catch let error as UnprocessableRecord {
                return error.code
            } catch {
                return "\(error)"
            }
        }
        #expect(code(OutgoingRecord(topic: Topics.escalationCommands, key: ticket.ticketId.rawValue, value: Array("{".utf8))) == "invalid_command")
        #expect(code(OutgoingRecord(topic: Topics.escalationCommands, key: ticket.ticketId.rawValue,
                                    value: Array(#"{"commandId":"x","ticketId":"\#(ticket.ticketId.rawValue)","command":"promote","by":{"name":"eve","role":"engineer"},"issuedBy":"eve","issuedAt":"2026-03-09T16:00:00Z"}"#.utf8)))
            == "invalid_command")
        var wrongKey = ticket.command(.escalate(by: eve), id: "k")
        wrongKey.key = Array("tk_other".utf8)
        #expect(code(wrongKey) == "invalid_key")
        #expect(code(TicketInputs("never-seen").command(.escalate(by: eve), id: "u")) == "unknown_ticket")
        #expect(code(OutgoingRecord(topic: Topics.activity, key: nil, value: Array("not json".utf8))) == "invalid_event")
    }

    @Test func aNewOwnerLearnsPublishedEventsAndDoesNotApplyTheirCausesAgain() throws {
        let first = PartitionDriver()
        _ = try first.handle(ticket.classified(.critical, openedAt: monday))
        let request = ticket.customerMessage(at: monday, cc: ["escalations@support.example"])
        _ = try first.handle(request)
        // The changelog was written here; then two more commands were published before a crash.
        let key = ticket.ticketId.rawValue
        let changelog = OutgoingRecord(topic: Topics.escalationChangelog, key: key, value: first.state.changelogValue(forKey: key))
        let published = try ticket.evaluateAndEscalate(prefix: "p").flatMap { try first.handle($0) }
            .filter { $0.topic == Topics.escalationEvents }

        let second = PartitionDriver()
        try second.state.restore(consumed(changelog, offset: 0))
        #expect(second.state.ticket(ticket.ticketId)?.escalation.state == .requested)
        for (offset, record) in published.enumerated() {
            #expect(second.state.observe(published: consumed(record, offset: Int64(offset))).changedKeys == [key])
        }
        #expect(second.state.ticket(ticket.ticketId)?.escalation == first.state.ticket(ticket.ticketId)?.escalation)
        // The inputs behind those events are redelivered: nothing is emitted twice.
        for record in ticket.evaluateAndEscalate(prefix: "p") { #expect(try second.handle(record).isEmpty) }
        #expect(try second.handle(request).isEmpty)
        // The changelog value round-trips.
        let third = PartitionDriver()
        try third.state.restore(consumed(OutgoingRecord(topic: Topics.escalationChangelog, key: key,
                                                        value: second.state.changelogValue(forKey: key)), offset: 0))
        #expect(third.state.ticket(ticket.ticketId) == second.state.ticket(ticket.ticketId))
    }

    @Test func aRedoYieldsByteIdenticalRecords() throws {
        func run() throws -> [OutgoingRecord] {
            let driver = PartitionDriver()
            return try ([ticket.classified(.critical, openedAt: monday), ticket.customerMessage(at: monday, cc: ["escalations@support.example"])]
                + ticket.evaluateAndEscalate(prefix: "r")).flatMap { try driver.handle($0) }
        }
        let once = try run(), twice = try run()
        #expect(once.map(\.value) == twice.map(\.value))
        #expect(once.map(\.key) == twice.map(\.key))
        #expect(Set(once.map(\.envelope.eventId)).count == once.count)
    }
}
