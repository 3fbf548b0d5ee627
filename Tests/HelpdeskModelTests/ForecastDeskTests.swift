import Foundation
import HelpdeskModel
import Testing

/// The forecaster's pure parts: the desk it keeps from the sla-timer's changelog and the shift
/// changes, the ledger of what it said, the staffing in the policy file, and its wording.
@Suite("forecast desk and ledger")
struct ForecastDeskTests {
    /// Monday 2 March 2026, 09:00 MST.
    let monday = ISO8601.parse("2026-03-02T16:00:00Z")!

    func clock(_ id: String, _ severity: Severity, openedAt: Date, requester: String? = "ann@customer.example",
               assignee: String? = nil) -> FirstResponseClock {
        var clock = FirstResponseClock(ticketId: TicketID(source: "crm", externalId: id), source: "crm", externalId: id)
        clock.requester = requester
        clock.assignee = assignee
        _ = clock.apply(.classified(severity: severity, openedAt: openedAt, eventId: EventID(rawValue: "c-\(id)")), policy: .standard)
        return clock
    }

    @Test func aRunningClockWaitsAndItsAnswerTeachesTheAgentsServiceTime() {
        var desk = ForecastDesk(policy: .standard, estimator: ServiceRateEstimator(minimumObservations: 1))
        var first = clock("A", .major, openedAt: monday, assignee: "alice")
        var second = clock("B", .major, openedAt: monday, assignee: "alice")
        let added = desk.apply(first) && desk.apply(second)
        let again = desk.apply(first)
        #expect(added)
        #expect(!again, "the same state again changes nothing")
        #expect(desk.waiting.count == 2)
        // Alice answers A after 20 minutes, then B 30 minutes later: B's service began at A's answer.
        _ = first.apply(.agentReplied(at: monday.addingTimeInterval(1_200)), policy: .standard)
        _ = second.apply(.agentReplied(at: monday.addingTimeInterval(3_000)), policy: .standard)
        let answered = desk.apply(second) && desk.apply(first)
        #expect(answered, "answers seen out of order")
        #expect(desk.waiting.isEmpty)
        desk.learn(now: monday.addingTimeInterval(3_600))
        #expect(desk.estimator.count(.major, now: monday.addingTimeInterval(3_600)) == 2)
        // The median of 1,200 and 1,800 seconds, not of 1,200 and 3,000.
        #expect(desk.estimator.estimate(now: monday.addingTimeInterval(3_600)).of(.major) == 1_500)
        // The changelog read again (a restart) does not count the answers twice.
        _ = desk.apply(first)
        desk.learn(now: monday.addingTimeInterval(3_600))
        #expect(desk.estimator.count(.major, now: monday.addingTimeInterval(3_600)) == 2)
    }

    @Test func aBreachedUnansweredTicketStillWaitsAResolvedOneDoesNot() {
        var desk = ForecastDesk(policy: .standard)
        var late = clock("L", .critical, openedAt: monday)
        _ = late.apply(.tick(now: monday.addingTimeInterval(2 * 3_600)), policy: .standard)
        #expect(late.phase == .breached)
        desk.apply(late)
        #expect(desk.waiting[late.ticketId]?.breached == true)
        _ = late.apply(.resolved(at: monday.addingTimeInterval(3 * 3_600), status: .solved), policy: .standard)
        desk.apply(late)
        #expect(desk.waiting.isEmpty)
    }

    @Test func aShiftChangeMovesThePredictionsAtOnceAndCountsOnce() {
        var desk = ForecastDesk(policy: .standard)
        for number in 0..<12 { desk.apply(clock("T\(number)", .minor, openedAt: monday)) }
        let before = desk.forecast(now: monday).map(\.respondAt).max()!
        let sick = EventID(rawValue: "shift-1")
        let firstChange = desk.apply(shift: sick, started: false, from: monday, until: nil)
        let secondChange = desk.apply(shift: EventID(rawValue: "shift-2"), started: false, from: monday, until: nil)
        let redelivered = desk.apply(shift: sick, started: false, from: monday, until: nil)
        #expect(firstChange && secondChange)
        #expect(!redelivered, "a redelivered change counts once")
        #expect(desk.schedule.capacity(from: monday).agents(at: monday) == 2)
        let fewer = desk.forecast(now: monday).map(\.respondAt).max()!
        #expect(fewer > before)
        // Without an end, a change lasts to the end of that local day.
        #expect(desk.schedule.capacity(from: monday).agents(at: ISO8601.parse("2026-03-03T16:00:00Z")!) == 4)
        desk.forgetShifts(before: ISO8601.parse("2026-03-03T08:00:00Z")!)
        #expect(desk.shiftChanges.isEmpty)
    }

    @Test func theOutlookPutsANewTicketBehindTheQueueOfItsSeverity() {
        var desk = ForecastDesk(policy: .standard)
        #expect(desk.outlook(now: monday)[.critical]?.respondAt == monday.addingTimeInterval(1_200), "an empty desk answers at once")
        for number in 0..<20 { desk.apply(clock("T\(number)", .critical, openedAt: monday)) }
        let busy = desk.outlook(now: monday)
        #expect(busy[.critical]!.respondAt > monday.addingTimeInterval(3_600))
        #expect(busy[.minor]!.respondAt > busy[.critical]!.respondAt)
        // What it says is the forecast a ticket opened now gets once it is in the queue (a queue
        // without ties on the due instant, which ticket ids would break).
        var mixed = ForecastDesk(policy: .standard)
        let ten = monday.addingTimeInterval(3_600)  // 10:00 MST: opened within the hour, no two due alike
        for number in 1...30 {
            let openedAt = ten.addingTimeInterval(Double(number % 2 == 0 ? -number : number) * 100)
            mixed.apply(clock("M\(number)", Severity.allCases[number % 3], openedAt: openedAt))
        }
        let outlook = mixed.outlook(now: ten)
        for severity in Severity.allCases {
            var opened = mixed
            opened.apply(clock("NEW", severity, openedAt: ten))
            let real = opened.forecast(now: ten).first { $0.ticketId == TicketID(source: "crm", externalId: "NEW") }
            #expect(outlook[severity]?.respondAt == real?.respondAt && outlook[severity]?.latest == real?.latest, "\(severity)")
        }
    }

    /// A queue whose head is at risk, then relieved by two more agents, then at risk again.
    @Test func theLedgerOpensAtMostOneAtRiskStateAndNumbersTheEpisodes() {
        var desk = ForecastDesk(policy: .standard)
        for number in 0..<10 { desk.apply(clock("T\(number)", .critical, openedAt: monday)) }
        var ledger = ForecastLedger()
        let (first, changed) = ledger.step(desk.forecast(now: monday), waiting: desk.waiting, now: monday)
        #expect(first.count { if case .expected = $0 { true } else { false } } == 10, "one expectation per ticket")
        let atRisk = first.compactMap { if case .atRisk(let ticket, _, let episode) = $0 { (ticket.externalId, episode) } else { nil } }
        #expect(!atRisk.isEmpty && atRisk.allSatisfy { $0.1 == 1 })
        #expect(changed.count == 10)
        // The same forecast again says nothing new.
        #expect(ledger.step(desk.forecast(now: monday), waiting: desk.waiting, now: monday).outputs.isEmpty)
        // Ten more agents: every at-risk state clears.
        desk.apply(shift: EventID(rawValue: "surge"), started: true, from: monday, until: nil)
        for number in 0..<9 { desk.apply(shift: EventID(rawValue: "surge-\(number)"), started: true, from: monday, until: nil) }
        let cleared = ledger.step(desk.forecast(now: monday), waiting: desk.waiting, now: monday).outputs
        #expect(cleared.count == atRisk.count && cleared.allSatisfy { if case .cleared(_, _, 1) = $0 { true } else { false } })
        // They go home: at risk again, the second episode.
        for number in 0..<9 { desk.apply(shift: EventID(rawValue: "home-\(number)"), started: false, from: monday, until: nil) }
        desk.apply(shift: EventID(rawValue: "home"), started: false, from: monday, until: nil)
        let again = ledger.step(desk.forecast(now: monday), waiting: desk.waiting, now: monday).outputs
        #expect(again.count == atRisk.count && again.allSatisfy { if case .atRisk(_, _, 2) = $0 { true } else { false } })
        // The ledger survives its changelog: a successor restores it and repeats nothing.
        var restored = ForecastLedger()
        for (ticketId, entry) in ledger.entries { restored.restore(key: ticketId.rawValue, value: ForecastLedger.changelogValue(entry)) }
        #expect(restored == ledger)
        #expect(restored.step(desk.forecast(now: monday), waiting: desk.waiting, now: monday).outputs.isEmpty)
    }

    @Test func aBreachedTicketIsNeverAtRiskAndAnAnsweredOneLeavesTheLedger() {
        var desk = ForecastDesk(policy: .standard)
        var late = clock("L", .critical, openedAt: monday)
        _ = late.apply(.tick(now: monday.addingTimeInterval(2 * 3_600)), policy: .standard)
        desk.apply(late)
        var ledger = ForecastLedger()
        let now = monday.addingTimeInterval(2 * 3_600)
        let outputs = ledger.step(desk.forecast(now: now), waiting: desk.waiting, now: now).outputs
        #expect(outputs.count == 1 && outputs.allSatisfy { if case .expected = $0 { true } else { false } })
        _ = late.apply(.agentReplied(at: now), policy: .standard)
        desk.apply(late)
        let (after, changed) = ledger.step(desk.forecast(now: now), waiting: desk.waiting, now: now)
        #expect(after.isEmpty)
        #expect(changed.count == 1 && changed.values.allSatisfy { $0 == nil }, "a tombstone")
        #expect(ledger.entries.isEmpty)
    }

    @Test func thePolicyFileNamesTheStaffingAndRefusesABadOne() throws {
        let policy = try SLAPolicy.load(yaml: """
            staffing:
              shifts:
                - { days: [mon, tue, wed, thu, fri], hours: { start: "09:00", end: "17:00" }, agents: 3 }
                - { days: [mon], hours: { start: "10:00", end: "15:00" }, agents: 2, team: tier2 }
            """)
        let capacity = policy.staffingSchedule.capacity(from: monday)
        #expect(capacity.agents(at: monday) == 3)
        #expect(capacity.agents(at: monday.addingTimeInterval(3_600)) == 5)
        #expect(capacity.agents(at: ISO8601.parse("2026-03-03T17:00:00Z")!) == 3)
        #expect(SLAPolicy.standard.staffingSchedule.capacity(from: monday).agents(at: monday) == 4, "four agents in open hours")
        #expect(throws: PolicyError(key: "staffing.shifts[0].agents", problem: "\"none\" is not a number of agents (1 to 10000)")) {
            try SLAPolicy.load(yaml: "staffing: { shifts: [ { hours: { start: \"09:00\", end: \"17:00\" }, agents: none } ] }")
        }
        #expect(throws: PolicyError(key: "staffing.shifts[0]", problem: "needs hours and agents")) {
            try SLAPolicy.load(yaml: "staffing: { shifts: [ { agents: 2 } ] }")
        }
    }

    @Test func theWordingSaysTheTargetAndTheExpectationInTheDesksZone() {
        let zone = TimeZone(identifier: "America/Denver")!
        #expect(ForecastWording.expectation(target: .seconds(3_600), expectedAt: ISO8601.parse("2026-03-02T17:40:00Z")!, now: monday, zone: zone)
            == "within 1 business hour; currently expected by 10:40 MST")
        #expect(ForecastWording.target(.seconds(4 * 3_600)) == "4 business hours")
        #expect(ForecastWording.target(.seconds(5_400)) == "90 business minutes")
        #expect(ForecastWording.instant(ISO8601.parse("2026-03-03T16:30:00Z")!, now: monday, zone: zone) == "Tue 3 Mar 09:30 MST")
    }

    @Test func aShiftChangeOnTheInboundTopicIsReadOrRefusedPrecisely() throws {
        let message = try InboundMessage.decode(Array("""
            {"type":"agent.shiftEnded","source":"wfm","externalId":"change-81","agent":"alice","at":"2026-03-02T20:00:00Z"}
            """.utf8))
        #expect(message == .shift(ShiftChange(source: "wfm", externalId: "change-81", started: false, agent: "alice",
                                              at: ISO8601.parse("2026-03-02T20:00:00Z"))))
        #expect(message.kind == .shiftEnded)
        #expect(throws: InboundRejection.invalidFields([FieldError(field: "agent", problem: "is required"),
                                                        FieldError(field: "until", problem: "must be after at")])) {
            try InboundMessage.decode(Array("""
                {"type":"agent.shiftStarted","source":"wfm","externalId":"c-2","at":"2026-03-02T20:00:00Z","until":"2026-03-02T19:00:00Z"}
                """.utf8))
        }
    }
}
