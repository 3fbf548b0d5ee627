import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import SLATimerService
import Testing
import TestSupport

/// The further metrics (next reply, periodic updates, resolution) and plans, in the partition.
@Suite("sla-timer partition: further metrics and plans")
struct SLATimerMetricsPartitionTests {
    let ticket = TicketInputs("CRM-2001")
    static let policy = try! SLAPolicy.load(yaml: """
        calendars:
          around-the-clock: { timezone: UTC, hours: { start: "00:00", end: "24:00" }, days: [sun, mon, tue, wed, thu, fri, sat] }
        severities:
          critical:
            nextReply: { target: 2h, notify: { breach: [supportLead] } }
            resolution: { target: 8h, escalateOnBreach: true, notify: { warning: [assignee], breach: [supportLead, management] } }
        plans:
          premium:
            severities:
              critical:
                calendar: around-the-clock
                firstResponse: 30m
                periodicUpdate: { target: 1h }
        """)

    func events(_ records: [OutgoingRecord]) -> [String] {
        records.filter { $0.topic == Topics.slaEvents }.map { record in
            let document = try! EventDocument(record.value!)
            let metric: String
            switch document.envelope.type {
            case SLAStarted.type: metric = (try! document.event(SLAStarted.self)).payload.metric.rawValue
            case SLAMet.type: metric = (try! document.event(SLAMet.self)).payload.metric.rawValue
            case SLABreached.type: metric = (try! document.event(SLABreached.self)).payload.metric.rawValue
            case SLAWarning.type: metric = (try! document.event(SLAWarning.self)).payload.metric.rawValue
            case SLAStopped.type: metric = (try! document.event(SLAStopped.self)).payload.metric.rawValue
            case SLAPaused.type: metric = (try! document.event(SLAPaused.self)).payload.metric.rawValue
            case SLAResumed.type: metric = (try! document.event(SLAResumed.self)).payload.metric.rawValue
            default: metric = "?"
            }
            return "\(document.envelope.type) \(metric)"
        }
    }

    @Test func thePlanOnTheClassificationSelectsItsPolicyAndCalendar() throws {
        let driver = PartitionDriver(policy: Self.policy)
        // Saturday 22:00Z: the premium plan's critical tickets count around the clock.
        let opened = at("2026-03-07T22:00:00Z")
        let premium = try driver.handle(ticket.classified(.critical, openedAt: opened, plan: "premium"))
        #expect(events(premium) == ["sla.started firstResponse", "sla.started resolution"])
        let first = try WireJSON.decode(Event<SLAStarted>.self, from: premium[0].value!).payload
        #expect(first.plan == "premium" && first.dueAt == at("2026-03-07T22:30:00Z"))
        let resolution = try WireJSON.decode(Event<SLAStarted>.self, from: premium[1].value!).payload
        #expect(resolution.dueAt == at("2026-03-08T06:00:00Z"))
        // The same ticket on no plan counts business hours: Monday.
        let other = TicketInputs("CRM-2002")
        let standard = try driver.handle(other.classified(.critical, openedAt: opened))
        #expect(try WireJSON.decode(Event<SLAStarted>.self, from: standard[0].value!).payload.dueAt == at("2026-03-09T16:00:00Z"))
        #expect(driver.state.furtherMetrics(ticket.ticketId)?.plan == "premium")
        // A plan the policy does not name runs, and is reported as, the default policy.
        let gold = TicketInputs("CRM-2003")
        let started = try driver.handle(gold.classified(.critical, openedAt: opened, plan: "gold"))
        #expect(try started.filter { $0.topic == Topics.slaEvents }.allSatisfy { try WireJSON.decode(Event<SLAStarted>.self, from: $0.value!).payload.plan == nil })
        #expect(driver.state.clock(gold.ticketId)?.plan == nil && driver.state.furtherMetrics(gold.ticketId)?.plan == nil)
    }

    @Test func replyCyclesUpdatesAndAPausedResolutionEndOnceEach() throws {
        let metrics = SLATimerMetrics()
        let driver = PartitionDriver(policy: Self.policy, metrics: metrics)
        let opened = at("2026-03-07T22:00:00Z")
        _ = try driver.handle(ticket.classified(.critical, openedAt: opened, assignee: "sam@support.example", plan: "premium"))
        #expect(metrics.openClocks(.resolution) == 1)
        // First response at 22:10: met; the first update period starts.
        #expect(events(try driver.handle(ticket.agentReply(at: at("2026-03-07T22:10:00Z"))))
            == ["sla.met firstResponse", "sla.started periodicUpdate"])
        // A customer message starts a next-reply cycle; waiting on the customer pauses it and the resolution.
        #expect(events(try driver.handle(ticket.agentReply(at: at("2026-03-07T22:20:00Z"), role: .customer)))
            == ["sla.started nextReply"])
        #expect(events(try driver.handle(ticket.statusChanged(to: .pending, at: at("2026-03-07T22:30:00Z"))))
            == ["sla.paused resolution", "sla.paused nextReply"])
        // The update period does not pause: it breaches at 23:10 and tells the policy's audiences.
        let breach = driver.fire(at("2026-03-07T23:10:00Z"))
        #expect(events(breach).contains("sla.breached periodicUpdate"))
        #expect(breach.contains { $0.topic == Topics.notifications })
        // Resumed two hours later: due instants move by the paused time.
        let resumed = try driver.handle(ticket.statusChanged(to: .open, at: at("2026-03-08T00:30:00Z")))
        #expect(events(resumed) == ["sla.resumed resolution", "sla.resumed nextReply"])
        let due = try WireJSON.decode(Event<SLAResumed>.self, from: resumed[0].value!).payload.dueAt
        #expect(due == at("2026-03-08T08:00:00Z"))
        // The reply meets the cycle and starts the next update period; solving meets the resolution.
        #expect(events(try driver.handle(ticket.agentReply(at: at("2026-03-08T00:40:00Z"))))
            == ["sla.met nextReply", "sla.started periodicUpdate"])
        #expect(events(try driver.handle(ticket.statusChanged(to: .solved, at: at("2026-03-08T01:00:00Z"))))
            == ["sla.met resolution", "sla.stopped periodicUpdate"])
        #expect(metrics.openClocks(.resolution) == 0 && metrics.openClocks(.periodicUpdate) == 0)
        #expect(driver.fire(at("2026-03-10T00:00:00Z")).isEmpty)
    }

    @Test func aRestartBetweenPublishingAndSavingRepeatsNothing() throws {
        let first = PartitionDriver(policy: Self.policy)
        let opened = at("2026-03-09T16:00:00Z")
        _ = try first.handle(ticket.classified(.critical, openedAt: opened))
        let saved = first.state.changelogValue(forKey: ticket.ticketId.rawValue)
        let inputs = [ticket.agentReply(at: at("2026-03-09T16:10:00Z")), ticket.agentReply(at: at("2026-03-09T16:20:00Z"), role: .customer),
                      ticket.statusChanged(to: .onHold, at: at("2026-03-09T16:30:00Z"))]
        var published = [OutgoingRecord]()
        for input in inputs { published += try first.handle(input) }
        published += first.fire(at("2026-03-10T01:00:00Z")).filter { $0.topic == Topics.slaEvents }
        // The process dies before saving: the next owner restores the saved state, learns
        // what was published, and handles the inputs again.
        let second = PartitionDriver(policy: Self.policy)
        try second.state.restore(ConsumerRecord(
            topic: Topics.slaTimerChangelog, partition: 0, offset: 0, key: Array(ticket.ticketId.rawValue.utf8), value: saved,
            headers: [], timestamp: Date()))
        for (offset, record) in published.filter({ $0.topic == Topics.slaEvents }).enumerated() {
            _ = second.state.observe(published: consumed(record, offset: Int64(offset)))
        }
        var again = [OutgoingRecord]()
        for input in inputs { again += try second.handle(input) }
        again += second.fire(at("2026-03-10T01:00:00Z"))
        #expect(events(again).isEmpty, "\(events(again))")
        // What comes next is as it would have been: the resolution resumes.
        #expect(events(try second.handle(ticket.statusChanged(to: .open, at: at("2026-03-10T16:00:00Z")))) == ["sla.resumed resolution", "sla.resumed nextReply"])
        let state = try TicketSLAState(changelogValue: second.state.changelogValue(forKey: ticket.ticketId.rawValue)!)
        #expect(state.metrics?.resolution?.phase == .running)
    }

    @Test func aPolicyWithoutFurtherMetricsKeepsNoStateForThem() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.statusChanged(to: .pending, at: at("2026-03-09T15:00:00Z")))
        _ = try driver.handle(ticket.classified(.critical, openedAt: at("2026-03-09T16:00:00Z"), plan: "premium"))
        _ = try driver.handle(ticket.agentReply(at: at("2026-03-09T16:20:00Z"), role: .customer))
        #expect(driver.state.furtherMetrics(ticket.ticketId) == nil)
        let value = try #require(driver.state.changelogValue(forKey: ticket.ticketId.rawValue))
        #expect(!String(decoding: value, as: UTF8.self).contains("metrics"))
    }
}
