import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import SLATimerService
import Testing
import TestSupport

/// The partition's clocks driven by explicit instants: the virtual clock in its purest form.
@Suite("sla-timer partition")
struct SLATimerPartitionTests {
    let ticket = TicketInputs("CRM-1042")

    @Test func aTicketOpenedInTheYear0001BreachesInsteadOfCrashingTheTimer() throws {
        // The poison pill: its firing lag (two thousand years) trapped the timer-lag metric,
        // and every restart died again on the same record.
        let driver = PartitionDriver()
        let ancient = TicketInputs("CRM-ANCIENT")
        #expect(types(try driver.handle(ancient.classified(.minor, openedAt: at("0001-01-01T00:00:00Z"))))
            == ["sla.events:sla.started"])
        let fired = driver.fire(at("2026-03-09T17:00:00Z"))
        #expect(fired.contains { $0.eventType == SLABreached.type })
        // The next ordinary ticket runs as usual.
        #expect(types(try driver.handle(ticket.classified(.critical, openedAt: at("2026-03-09T15:00:00Z"))))
            == ["sla.events:sla.started"])
    }

    @Test func assigneeNotificationsNameTheAssignedAgent() throws {
        let driver = PartitionDriver()
        let opened = at("2026-03-09T15:00:00Z")
        _ = try driver.handle(ticket.classified(.critical, openedAt: opened, assignee: "sam@support.example", requester: "it@acme.test"))
        func recipients(_ records: [OutgoingRecord]) throws -> [String?] {
            try records.filter { $0.topic == Topics.notifications }
                .map { try WireJSON.decode(Event<HelpdeskModel.Notification>.self, from: $0.value!).payload }
                .filter { $0.audience == .assignee }.map(\.recipient)
        }
        #expect(try recipients(driver.fire(at("2026-03-09T15:45:00Z"))) == ["sam@support.example"])
        // Reassigned: the breach goes to the new assignee; the state keeps both people.
        _ = try driver.handle(ticket.assigned(to: "kim@support.example", at: at("2026-03-09T15:50:00Z")))
        let clock = try #require(driver.state.clock(ticket.ticketId))
        #expect(clock.assignee == "kim@support.example")
        #expect(try FirstResponseClock(changelogValue: clock.changelogValue).requester == "it@acme.test")
        // A major ticket's breach tells its assignee (the standard policy), by name.
        let major = TicketInputs("CRM-MAJOR")
        _ = try driver.handle(major.classified(.major, openedAt: opened))
        _ = try driver.handle(major.assigned(to: "kim@support.example", at: opened))
        #expect(try recipients(driver.fire(at("2026-03-09T19:00:00Z")).filter { $0.key == Array(major.ticketId.rawValue.utf8) })
            == ["kim@support.example"], "the breach (fired at its deadline, past the warning)")
    }

    @Test func aBreachRevealedByALateInputIsDatedByItsDeadline() throws {
        // The timer had not fired (its owner was down) when a reply after the deadline arrived,
        // or the classification itself came after the deadline: the breach is still dated by it.
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.classified(.critical, openedAt: at("2026-03-09T15:00:00Z")))
        let byReply = try driver.handle(ticket.agentReply(at: at("2026-03-09T17:00:00Z")))
        #expect(types(byReply).first == "sla.events:sla.breached")
        #expect(try WireJSON.decode(Event<SLABreached>.self, from: byReply[0].value!).at == at("2026-03-09T16:00:00Z"))

        let late = TicketInputs("CRM-LATE")
        #expect(types(try driver.handle(late.classified(.critical, openedAt: at("2026-03-09T15:00:00Z"), at: at("2026-03-09T17:00:00Z"))))
            == ["sla.events:sla.started"])
        let fired = driver.fire(at("2026-03-09T17:00:01Z"))
        let breached = try #require(fired.first { $0.eventType == SLABreached.type })
        #expect(try WireJSON.decode(Event<SLABreached>.self, from: breached.value!).at == at("2026-03-09T16:00:00Z"))
    }

    @Test func aFridayEveningCriticalTicketWarnsAndBreachesOnMondayAndTellsThePolicysAudiences() throws {
        let driver = PartitionDriver()
        // Friday 16:30 MST; DST begins on Sunday: due Monday 09:30 MDT, warning at 09:15.
        let started = try driver.handle(ticket.classified(.critical, openedAt: at("2026-03-06T23:30:00Z")))
        #expect(types(started) == ["sla.events:sla.started"])
        let start = try WireJSON.decode(Event<SLAStarted>.self, from: started[0].value!)
        #expect(start.payload.dueAt == at("2026-03-09T15:30:00Z"))
        #expect(driver.state.nextDeadline == at("2026-03-09T15:15:00Z"))

        #expect(driver.fire(at("2026-03-09T15:14:59Z")).isEmpty)
        let warning = driver.fire(at("2026-03-09T15:15:00Z"))
        #expect(types(warning) == ["sla.events:sla.warning", "notifications:notification", "notifications:notification"])
        let warned = try WireJSON.decode(Event<SLAWarning>.self, from: warning[0].value!)
        #expect(warned.payload.remainingSeconds == 900)
        #expect(warned.at == at("2026-03-09T15:15:00Z"), "a timer event is dated by its deadline, not by when it fired")
        let notices = try warning.dropFirst().map { try WireJSON.decode(Event<HelpdeskModel.Notification>.self, from: $0.value!) }
        #expect(notices.map(\.payload.audience) == [.assignee, .supportLead])
        #expect(notices.allSatisfy { $0.payload.causedBy == warned.eventId && $0.payload.severity == .critical })

        #expect(driver.fire(at("2026-03-09T15:20:00Z")).isEmpty, "warned once")
        // Fired late (the service was down): the breach still goes out once, dated by its deadline.
        let breach = driver.fire(at("2026-03-09T18:00:00Z"))
        #expect(types(breach) == ["sla.events:sla.breached", "notifications:notification", "notifications:notification"])
        let breached = try WireJSON.decode(Event<SLABreached>.self, from: breach[0].value!)
        #expect(breached.payload == SLABreached(severity: .critical, dueAt: at("2026-03-09T15:30:00Z")))
        #expect(breached.at == at("2026-03-09T15:30:00Z"))
        #expect(try breach.dropFirst().map { try WireJSON.decode(Event<HelpdeskModel.Notification>.self, from: $0.value!).payload.audience }
            == [.supportLead, .management])

        // A reply after the breach is recorded as such, without a second terminal event.
        #expect(types(try driver.handle(ticket.agentReply(at: at("2026-03-09T16:00:00Z")))) == ["sla.events:sla.respondedAfterBreach"])
        #expect(driver.state.clock(ticket.ticketId)?.respondedAt == at("2026-03-09T16:00:00Z"))
        #expect(driver.state.nextDeadline == nil || driver.fire(at("2026-03-20T00:00:00Z")).isEmpty)
    }

    @Test func aPublicAgentReplyBeforeTheDeadlineMeetsItAndOtherMessagesDoNot() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.classified(.major, openedAt: at("2026-01-09T23:30:00Z")))
        #expect(try driver.handle(ticket.agentReply(at: at("2026-01-12T16:00:00Z"), isPublic: false)).isEmpty)
        #expect(try driver.handle(ticket.agentReply(at: at("2026-01-12T16:05:00Z"), role: .customer)).isEmpty)
        let met = try driver.handle(ticket.agentReply(at: at("2026-01-12T16:20:00Z")))
        #expect(types(met) == ["sla.events:sla.met"])
        let event = try WireJSON.decode(Event<SLAMet>.self, from: met[0].value!)
        #expect(event.payload.businessSecondsUsed == 3000, "30 minutes on Friday and 20 on Monday")
        #expect(driver.fire(at("2026-01-13T00:00:00Z")).isEmpty, "no breach after the clock was met")
    }

    @Test func reprioritizingAfterTheWarningRecomputesFromTheOriginalStart() throws {
        let driver = PartitionDriver()
        // Tuesday 09:00 MST minor: due Tuesday 17:00, warning at 15:00.
        _ = try driver.handle(ticket.classified(.minor, openedAt: at("2026-01-13T16:00:00Z")))
        #expect(types(driver.fire(at("2026-01-13T22:00:00Z"))).first == "sla.events:sla.warning")
        // At 15:30 an agent makes it major: due 13:00, already past: recalculated and breached at once.
        let changed = try driver.handle(ticket.severityChanged(to: .major, at: at("2026-01-13T22:30:00Z")))
        #expect(types(changed) == ["sla.events:sla.recalculated", "sla.events:sla.breached",
                                   "notifications:notification", "notifications:notification"])
        let recalculated = try WireJSON.decode(Event<SLARecalculated>.self, from: changed[0].value!)
        #expect(recalculated.payload == SLARecalculated(oldSeverity: .minor, severity: .major, dueAt: at("2026-01-13T20:00:00Z")))
        #expect(driver.fire(at("2026-01-14T00:00:00Z")).isEmpty)
    }

    @Test func loweringTheSeverityMovesTheDeadlineAndWarnsAgainForTheNewOne() throws {
        let driver = PartitionDriver()
        // Tuesday 09:00 MST critical: due 10:00, warning 09:45.
        _ = try driver.handle(ticket.classified(.critical, openedAt: at("2026-01-13T16:00:00Z")))
        #expect(types(driver.fire(at("2026-01-13T16:45:00Z"))).first == "sla.events:sla.warning")
        let changed = try driver.handle(ticket.severityChanged(to: .minor, at: at("2026-01-13T16:50:00Z")))
        #expect(types(changed) == ["sla.events:sla.recalculated"])
        #expect(driver.fire(at("2026-01-13T17:00:00Z")).isEmpty, "the old deadline no longer fires")
        #expect(driver.state.nextDeadline == at("2026-01-13T22:00:00Z"))
        #expect(types(driver.fire(at("2026-01-13T22:00:00Z"))).first == "sla.events:sla.warning")
        #expect(types(driver.fire(at("2026-01-14T00:00:00Z"))).first == "sla.events:sla.breached")
    }

    @Test func solvingBeforeAnyResponseStopsTheClock() throws {
        let driver = PartitionDriver()
        _ = try driver.handle(ticket.classified(.major, openedAt: at("2026-01-13T16:00:00Z")))
        #expect(try driver.handle(ticket.statusChanged(to: .pending, at: at("2026-01-13T16:10:00Z"))).isEmpty)
        let stopped = try driver.handle(ticket.statusChanged(to: .solved, at: at("2026-01-13T16:30:00Z")))
        #expect(types(stopped) == ["sla.events:sla.stopped"])
        #expect(driver.state.nextDeadline == nil || driver.fire(at("2026-01-20T00:00:00Z")).isEmpty)
    }

    @Test func aTicketOpenedInTheAutumnDSTWeekIsTimedInLocalHours() throws {
        let driver = PartitionDriver()
        // Friday 2026-10-30 16:00 MDT, minor (8 h): 1 h on Friday, 7 h on Monday 2026-11-02 in MST: due 16:00 MST.
        let started = try driver.handle(ticket.classified(.minor, openedAt: at("2026-10-30T22:00:00Z")))
        #expect(try WireJSON.decode(Event<SLAStarted>.self, from: started[0].value!).payload.dueAt == at("2026-11-02T23:00:00Z"))
    }

    @Test func aReplySeenBeforeTheClassificationIsJudgedWhenTheClockStarts() throws {
        let driver = PartitionDriver()
        #expect(try driver.handle(ticket.agentReply(at: at("2026-01-13T16:10:00Z"))).isEmpty)
        let outputs = try driver.handle(ticket.classified(.critical, openedAt: at("2026-01-13T16:00:00Z")))
        #expect(types(outputs) == ["sla.events:sla.started", "sla.events:sla.met"])
    }

    @Test func handlingTheSameInputsAgainInAFreshPartitionYieldsIdenticalRecords() throws {
        let inputs = [ticket.classified(.critical, openedAt: at("2026-01-13T16:00:00Z")),
                      ticket.severityChanged(to: .major, at: at("2026-01-13T16:20:00Z"))]
        func run() throws -> [OutgoingRecord] {
            let driver = PartitionDriver()
            return try inputs.flatMap { try driver.handle($0) } + driver.fire(at("2026-01-13T23:00:00Z"))
        }
        let first = try run()
        #expect(first.count == 5)
        #expect(try run() == first)
        #expect(Set(first.map(\.envelope.eventId)).count == first.count)
    }

    @Test func somethingThatIsNotAnEventIsUnprocessable() {
        let driver = PartitionDriver()
        let garbage = OutgoingRecord(topic: Topics.activity, key: "tk_x", value: Array("{\"type\":".utf8))
        #expect(throws: UnprocessableRecord.self) { try driver.handle(garbage) }
        var wrongShape = ticket.classified(.minor, openedAt: at("2026-01-13T16:00:00Z"))
        wrongShape.value = Array(#"{"type":"ticket.classified","eventId":"x","ticketId":"tk_1","source":"a","externalId":"b","at":"2026-01-01T00:00:00Z"}"#.utf8)
        #expect(throws: UnprocessableRecord.self) { try driver.handle(wrongShape) }
    }

    @Test func stateRestoredFromTheChangelogAndTheEventsSinceGivesNoSecondTerminalEvent() throws {
        let first = PartitionDriver()
        _ = try first.handle(ticket.classified(.critical, openedAt: at("2026-01-13T16:00:00Z")))
        let changelog = first.state.changelogValue(forKey: ticket.ticketId.rawValue)
        // The breach fired and was published, then the process died before writing the changelog.
        let breach = first.fire(at("2026-01-13T17:00:00Z")).filter { $0.topic == Topics.slaEvents }
        #expect(types(breach).last == "sla.events:sla.breached")

        let second = PartitionDriver()
        try second.state.restore(ConsumerRecord(
            topic: Topics.slaTimerChangelog, partition: 0, offset: 0, key: Array(ticket.ticketId.rawValue.utf8),
            value: changelog, headers: [], timestamp: Date()))
        #expect(second.state.clock(ticket.ticketId)?.phase == .running)
        for (offset, record) in breach.enumerated() {
            #expect(second.state.observe(published: consumed(record, offset: Int64(offset))).changedKeys == [ticket.ticketId.rawValue])
        }
        #expect(second.state.clock(ticket.ticketId)?.phase == .breached)
        // A reply sent before the deadline but seen only now cannot turn into a second terminal
        // event: it is recorded as a response after the breach, 0 seconds late.
        let reply = try second.handle(ticket.agentReply(at: at("2026-01-13T16:50:00Z")))
        #expect(types(reply) == ["sla.events:sla.respondedAfterBreach"])
        #expect(try WireJSON.decode(Event<SLARespondedAfterBreach>.self, from: reply[0].value!).payload.businessSecondsLate == 0)
        #expect(second.fire(at("2026-01-14T00:00:00Z")).isEmpty)
    }

    @Test func theOpenClockGaugeFollowsClocksAsTheyStartFinishAndLeave() throws {
        let metrics = SLATimerMetrics()
        let driver = PartitionDriver(metrics: metrics)
        _ = try driver.handle(TicketInputs("A").classified(.critical, openedAt: at("2026-01-13T16:00:00Z")))
        _ = try driver.handle(TicketInputs("B").classified(.minor, openedAt: at("2026-01-13T16:00:00Z")))
        _ = try driver.handle(TicketInputs("C").classified(.minor, openedAt: at("2026-01-13T16:00:00Z")))
        #expect(metrics.openClocks(.critical) == 1 && metrics.openClocks(.minor) == 2)
        _ = try driver.handle(TicketInputs("B").agentReply(at: at("2026-01-13T16:30:00Z")))
        _ = driver.fire(at("2026-01-13T17:00:00Z"))
        #expect(metrics.openClocks(.critical) == 0 && metrics.openClocks(.minor) == 1)
        driver.state.dropped()
        #expect(metrics.openClocks(.minor) == 0)
    }
}
