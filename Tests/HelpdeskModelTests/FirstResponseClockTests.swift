import Foundation
import HelpdeskModel
import Testing

func at(_ text: String) -> Date { ISO8601.parse(text)! }

func newClock() -> FirstResponseClock {
    FirstResponseClock(ticketId: TicketID(source: "crm", externalId: "CRM-1042"), source: "crm", externalId: "CRM-1042")
}

let classifiedID = EventID.derive(["classifier", "c"])

func types(_ outputs: [FirstResponseClock.Output]) -> [String] {
    outputs.map {
        switch $0 {
        case .started: "started"
        case .warning: "warning"
        case .breached: "breached"
        case .met: "met"
        case .recalculated: "recalculated"
        case .stopped: "stopped"
        case .respondedAfterBreach: "respondedAfterBreach"
        case .resolvedAfterBreach: "resolvedAfterBreach"
        }
    }
}

@Suite("First-response clock")
struct FirstResponseClockTests {
    let policy = SLAPolicy.standard

    @Test func fridayEveningTicketWarnsAndBreachesOnMonday() {
        var clock = newClock()
        // Friday 16:30 MST, critical: due Monday 09:30 MDT (DST began on Sunday), warning at 09:15.
        let started = clock.apply(.classified(severity: .critical, openedAt: at("2026-03-06T23:30:00Z"), eventId: classifiedID), policy: policy)
        #expect(started == [.started(SLAStarted(severity: .critical, startedAt: at("2026-03-06T23:30:00Z"), dueAt: at("2026-03-09T15:30:00Z")), cause: classifiedID.rawValue)])
        #expect(clock.nextDeadline == at("2026-03-09T15:15:00Z"))
        #expect(clock.apply(.tick(now: at("2026-03-09T15:14:59Z")), policy: policy).isEmpty)
        #expect(clock.apply(.tick(now: at("2026-03-09T15:15:00Z")), policy: policy)
            == [.warning(SLAWarning(dueAt: at("2026-03-09T15:30:00Z"), remainingSeconds: 900), cause: "warning/2026-03-09T15:30:00Z",
                         at: at("2026-03-09T15:15:00Z"), severity: .critical)])
        #expect(clock.nextDeadline == at("2026-03-09T15:30:00Z"))
        #expect(clock.apply(.tick(now: at("2026-03-09T15:20:00Z")), policy: policy).isEmpty, "warned once")
        #expect(types(clock.apply(.tick(now: at("2026-03-09T15:30:00Z")), policy: policy)) == ["breached"])
        #expect(clock.phase == .breached)
        #expect(clock.nextDeadline == nil)
        // A reply after the breach is recorded with how late it came, without a second terminal event.
        #expect(clock.apply(.agentReplied(at: at("2026-03-09T16:00:00Z")), policy: policy) == [
            .respondedAfterBreach(SLARespondedAfterBreach(dueAt: at("2026-03-09T15:30:00Z"), respondedAt: at("2026-03-09T16:00:00Z"),
                                                          businessSecondsLate: 1800, businessSecondsUsed: 5400), cause: "respondedAfterBreach"),
        ])
        #expect(clock.apply(.agentReplied(at: at("2026-03-09T16:10:00Z")), policy: policy).isEmpty, "the first response only")
        #expect(clock.respondedAt == at("2026-03-09T16:00:00Z"))
        #expect(clock.apply(.tick(now: at("2026-03-10T00:00:00Z")), policy: policy).isEmpty)
    }

    @Test func aReplyBeforeTheDeadlineMeetsItWithTheBusinessTimeUsed() {
        var clock = newClock()
        _ = clock.apply(.classified(severity: .major, openedAt: at("2026-01-09T23:30:00Z"), eventId: classifiedID), policy: policy)
        // Monday 09:20 MST: 30 min on Friday + 20 min on Monday.
        let outputs = clock.apply(.agentReplied(at: at("2026-01-12T16:20:00Z")), policy: policy)
        #expect(outputs == [.met(SLAMet(dueAt: at("2026-01-12T19:30:00Z"), respondedAt: at("2026-01-12T16:20:00Z"), businessSecondsUsed: 3000), cause: "terminal")])
        #expect(clock.apply(.tick(now: at("2026-01-13T00:00:00Z")), policy: policy).isEmpty)
        #expect(clock.apply(.agentReplied(at: at("2026-01-12T17:00:00Z")), policy: policy).isEmpty)
    }

    @Test func aReplySeenLateIsJudgedByItsOwnTime() {
        var clock = newClock()
        _ = clock.apply(.classified(severity: .critical, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy)
        // The service was down past the deadline; the reply was sent before it.
        #expect(types(clock.apply(.agentReplied(at: at("2026-01-12T16:50:00Z")), policy: policy)) == ["met"])
        var late = newClock()
        _ = late.apply(.classified(severity: .critical, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy)
        #expect(types(late.apply(.agentReplied(at: at("2026-01-12T17:05:00Z")), policy: policy)) == ["breached", "respondedAfterBreach"])
    }

    @Test func inputsBeforeTheClassificationAreDecidedWhenItArrives() {
        var clock = newClock()
        #expect(clock.apply(.agentReplied(at: at("2026-01-12T16:10:00Z")), policy: policy).isEmpty)
        #expect(clock.phase == .waiting)
        #expect(types(clock.apply(.classified(severity: .critical, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy))
            == ["started", "met"])
        var solved = newClock()
        _ = solved.apply(.resolved(at: at("2026-01-12T16:05:00Z"), status: .solved), policy: policy)
        #expect(types(solved.apply(.classified(severity: .minor, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy))
            == ["started", "stopped"])
    }

    @Test func resolvingBeforeAnyResponseStopsTheClock() {
        var clock = newClock()
        _ = clock.apply(.classified(severity: .minor, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy)
        #expect(clock.apply(.resolved(at: at("2026-01-12T18:00:00Z"), status: .closed), policy: policy)
            == [.stopped(SLAStopped(reason: "resolved before a first response"), cause: "stopped")])
        #expect(clock.phase == .stopped)
        #expect(clock.apply(.tick(now: at("2026-01-20T00:00:00Z")), policy: policy).isEmpty)
        #expect(clock.apply(.agentReplied(at: at("2026-01-12T19:00:00Z")), policy: policy).isEmpty)
    }

    @Test func reprioritizationAfterAWarningRecomputesFromTheOriginalStart() {
        var clock = newClock()
        _ = clock.apply(.classified(severity: .minor, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy)
        // Minor from Monday 09:00: warning at 15:00 local (6 of 8 hours).
        #expect(types(clock.apply(.tick(now: at("2026-01-12T22:00:00Z")), policy: policy)) == ["warning"])
        // Raised to critical at 15:30: due 10:00 this morning, long past: breached at once.
        let change = EventID.derive(["intake", "severity"])
        let outputs = clock.apply(.severityChanged(to: .critical, at: at("2026-01-12T22:30:00Z"), eventId: change), policy: policy)
        #expect(outputs == [
            .recalculated(SLARecalculated(oldSeverity: .minor, severity: .critical, dueAt: at("2026-01-12T17:00:00Z")), cause: change.rawValue,
                          at: at("2026-01-12T22:30:00Z")),
            .breached(SLABreached(severity: .critical, dueAt: at("2026-01-12T17:00:00Z")), cause: "terminal"),
        ])
        #expect(clock.phase == .breached)
    }

    @Test func loweringTheSeverityMovesTheDeadlineAndWarnsAgain() {
        var clock = newClock()
        _ = clock.apply(.classified(severity: .critical, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy)
        #expect(types(clock.apply(.tick(now: at("2026-01-12T16:45:00Z")), policy: policy)) == ["warning"])
        let change = EventID.derive(["intake", "lower"])
        #expect(types(clock.apply(.severityChanged(to: .major, at: at("2026-01-12T16:50:00Z"), eventId: change), policy: policy)) == ["recalculated"])
        #expect(clock.dueAt == at("2026-01-12T20:00:00Z"))
        #expect(clock.nextDeadline == at("2026-01-12T19:00:00Z"))
        #expect(types(clock.apply(.tick(now: at("2026-01-12T19:00:00Z")), policy: policy)) == ["warning"])
        #expect(types(clock.apply(.agentReplied(at: at("2026-01-12T19:30:00Z")), policy: policy)) == ["met"])
    }

    @Test func aSecondClassificationChangesNothingAndTheStateRoundTrips() throws {
        var clock = newClock()
        _ = clock.apply(.classified(severity: .major, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy)
        #expect(clock.apply(.classified(severity: .critical, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID), policy: policy).isEmpty)
        #expect(clock.severity == .major)
        #expect(try FirstResponseClock(changelogValue: clock.changelogValue) == clock)
    }

    @Test func exactlyOneOutcomeWhateverTheOrderOfInputs() {
        let inputs: [FirstResponseClock.Input] = [
            .classified(severity: .critical, openedAt: at("2026-01-12T16:00:00Z"), eventId: classifiedID),
            .agentReplied(at: at("2026-01-12T16:30:00Z")), .tick(now: at("2026-01-12T17:30:00Z")),
            .resolved(at: at("2026-01-12T16:40:00Z"), status: .solved), .tick(now: at("2026-01-12T16:50:00Z")),
        ]
        // Every permutation of the five inputs.
        func permutations(_ items: [Int]) -> [[Int]] {
            guard items.count > 1 else { return [items] }
            return items.indices.flatMap { i in
                permutations(Array(items[..<i] + items[(i + 1)...])).map { [items[i]] + $0 }
            }
        }
        for order in permutations(Array(inputs.indices)) {
            var clock = newClock()
            var all = [FirstResponseClock.Output]()
            for index in order { all += clock.apply(inputs[index], policy: policy) }
            // Replaying everything again changes nothing.
            for index in order { all += clock.apply(inputs[index], policy: policy) }
            let terminal = types(all).filter { $0 == "met" || $0 == "breached" }
            let stopped = types(all).filter { $0 == "stopped" }
            #expect(terminal.count <= 1 && terminal.count + stopped.count == 1, "order \(order): \(types(all))")
            #expect(types(all).filter { $0 == "started" }.count == 1)
        }
    }
}

@Suite("First-response clock changelog value")
struct FirstResponseClockChangelogTests {
    @Test func everyStateReadsBackAsItWasWritten() throws {
        let policy = SLAPolicy.standard
        var waiting = newClock()
        _ = waiting.apply(.agentReplied(at: at("2026-01-13T16:10:00Z")), policy: policy)
        var warned = newClock()
        _ = warned.apply(.classified(severity: .critical, openedAt: at("2026-01-13T16:00:00Z"), eventId: classifiedID), policy: policy)
        _ = warned.apply(.tick(now: at("2026-01-13T16:50:00Z")), policy: policy)
        var breached = warned
        _ = breached.apply(.tick(now: at("2026-01-13T18:00:00Z")), policy: policy)
        var stopped = newClock()
        _ = stopped.apply(.classified(severity: .minor, openedAt: at("2026-01-13T16:00:00Z"), eventId: classifiedID), policy: policy)
        _ = stopped.apply(.resolved(at: at("2026-01-13T17:00:00Z"), status: .solved), policy: policy)
        for clock in [newClock(), waiting, warned, breached, stopped] {
            #expect(try FirstResponseClock(changelogValue: clock.changelogValue) == clock)
        }
        #expect(warned.warned && breached.phase == .breached && stopped.phase == .stopped && waiting.phase == .waiting)
        let text = String(decoding: warned.changelogValue, as: UTF8.self)
        #expect(text.hasPrefix(#"{"dueAt":"2026-01-13T17:00:00Z","externalId":"CRM-1042","phase":"running","#))
    }

    @Test func textThatNeedsEscapesOrSpacingReadsBackToo() throws {
        let clock = FirstResponseClock(ticketId: TicketID(source: "crm", externalId: "A \"quoted\"\\ id"), source: "crm",
                                       externalId: "A \"quoted\"\\ id")
        #expect(try FirstResponseClock(changelogValue: clock.changelogValue) == clock)
        let spaced = #"{ "ticketId": "tk_1", "source": "crm", "externalId": "X", "phase": "waiting", "warned": true }"#
        let read = try FirstResponseClock(changelogValue: Array(spaced.utf8))
        #expect(read.externalId == "X" && read.warned && read.phase == .waiting)
    }

    @Test(arguments: ["", "[]", #"{"ticketId":"tk_1","source":"crm","externalId":"X"}"#,
                      #"{"ticketId":"tk_1","source":"crm","source":"mail","externalId":"X","phase":"waiting"}"#,
                      #"{"ticketId":"tk_1","source":"crm","externalId":"X","phase":"paused"}"#,
                      #"{"ticketId":"tk_1","source":"crm","externalId":"X","phase":"running","dueAt":"tomorrow"}"#])
    func unreadableValuesAreErrors(text: String) {
        #expect(throws: ChangelogValueError.self) { try FirstResponseClock(changelogValue: Array(text.utf8)) }
    }
}
