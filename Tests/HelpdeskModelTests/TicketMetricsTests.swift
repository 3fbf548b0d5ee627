import Foundation
import HelpdeskModel
import Testing
import TestSupport

/// A policy with every metric: critical tickets of the `premium` plan count around the clock.
let metricsPolicyYAML = """
    holidays: [2026-03-04]
    calendars:
      around-the-clock:
        timezone: UTC
        hours: { start: "00:00", end: "24:00" }
        days: [sun, mon, tue, wed, thu, fri, sat]
        holidays: []
    severities:
      critical:
        nextReply: { target: 2h }
        periodicUpdate: { target: 1h, warnAt: 0.5 }
        resolution: { target: 8h, escalateOnBreach: true }
      major:
        nextReply: { target: 4h, pauses: [onHold] }
        resolution: { target: 16h }
      minor:
        resolution: { target: 40h }
    plans:
      premium:
        severities:
          critical: { calendar: around-the-clock, firstResponse: 30m }
          minor: { resolution: none }
    """

/// Monday 2 March 2026, 09:00 MST (16:00Z), plus business-free arithmetic in seconds.
let monday0900 = ISO8601.parse("2026-03-02T16:00:00Z")!


@Suite("Further SLA metrics")
struct TicketMetricsTests {
    let policy = try! SLAPolicy.load(yaml: metricsPolicyYAML)

    @Test func thePolicyFileNamesMetricsPlansAndCalendars() throws {
        let critical = policy.target(for: .critical)
        #expect(critical.nextReply == MetricTarget(target: .seconds(7200), pauses: [.pending, .onHold]))
        #expect(critical.periodicUpdate == MetricTarget(target: .seconds(3600), warnAt: 0.5))
        #expect(critical.resolution?.escalateOnBreach == true)
        #expect(policy.target(for: .major).nextReply?.pauses == [.onHold])
        #expect(policy.target(for: .minor).nextReply == nil)
        // The plan starts from the default severities and changes what it names.
        let premium = policy.forPlan("premium")
        #expect(premium.planName == "premium")
        #expect(premium.target(for: .critical).firstResponse == .seconds(1800))
        #expect(premium.target(for: .critical).resolution == critical.resolution)
        #expect(premium.target(for: .minor).resolution == nil)
        #expect(premium.calendar(for: .critical).timeZone.secondsFromGMT() == 0)
        #expect(premium.calendar(for: .major).timeZone.identifier == "America/Denver")
        // An unknown plan, or none, is the default policy.
        #expect(policy.forPlan("standard").planName == nil)
        #expect(policy.forPlan(nil).target(for: .critical).firstResponse == .seconds(3600))
        // The built-in policy runs the first response only.
        #expect(!SLAPolicy.standard.hasFurtherMetrics(plan: nil))
        #expect(policy.hasFurtherMetrics(plan: "premium"))
        // A premium critical ticket opened Saturday night is due 30 minutes later.
        #expect(premium.firstResponseDue(severity: .critical, openedAt: at("2026-03-07T23:00:00Z")) == at("2026-03-07T23:30:00Z"))
    }

    /// The example in docs/policy.md, as a file, says what the table beside it says.
    @Test func theDocumentedExampleSaysWhatItsTableSays() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try SLAPolicy.load(file: root.appendingPathComponent("docs/policy-plans.example.yaml").path)
        let critical = example.target(for: .critical)
        #expect(critical.nextReply?.target == .seconds(2 * 3600) && critical.periodicUpdate?.target == .seconds(3600))
        #expect(critical.resolution?.target == .seconds(24 * 3600) && critical.resolution?.escalateOnBreach == true)
        #expect(example.target(for: .major).resolution?.target == .seconds(40 * 3600))
        #expect(example.target(for: .minor).resolution == nil && example.target(for: .minor).nextReply == nil)
        let premium = example.forPlan("premium")
        #expect(premium.target(for: .critical).firstResponse == .seconds(1800))
        #expect(premium.calendar(for: .critical).days.count == 7)
        #expect(premium.target(for: .critical).resolution == critical.resolution)
        #expect(premium.calendar(for: .major).timeZone.identifier == "America/Denver")
    }

    @Test(arguments: [
        ("severities: { critical: { resolution: { warnAt: 0.5 } } }", "severities.critical.resolution: needs a target (like { target: 4h }), or none"),
        ("severities: { critical: { periodicUpdate: { target: 1h, pauses: [pending] } } }", "severities.critical.periodicUpdate.pauses: periodicUpdate does not pause"),
        ("severities: { critical: { nextReply: { target: 1h, pauses: [solved] } } }", "severities.critical.nextReply.pauses[0]: \"solved\" is not one of open|pending|onHold"),
        ("severities: { critical: { calendar: nights } }", "severities.critical.calendar: \"nights\" is not a calendar (one of default)"),
        ("plans: { gold: { calendar: nights } }", "plans.gold.calendar: \"nights\" is not a calendar (one of default)"),
        ("plans: { gold: { targets: {} } }", "plans.gold.targets: unknown key (expected one of calendar, severities)"),
        ("calendars: { nights: { timezone: Mars/Olympus } }", "calendars.nights.timezone: \"Mars/Olympus\" is not an IANA time zone"),
        ("severities: { minor: { resolution: { target: soon } } }", "severities.minor.resolution.target: \"soon\" is not a duration (like 1h, 30m, 90s, 1h30m)"),
    ])
    func aBadPolicyNamesTheKey(yaml: String, message: String) {
        #expect(throws: PolicyError.self) { try SLAPolicy.load(yaml: yaml) }
        do {
            _ = try SLAPolicy.load(yaml: yaml)
        } catch {
            #expect(error.description == message)
        }
    }

    // MARK: Resolution and pauses

    @Test func resolutionPausesWhileWaitingOnTheCustomer() {
        var ticket = TicketMetrics()
        var out = ticket.apply(.classified(severity: .critical, openedAt: monday0900, plan: nil), policy: policy)
        // 8 business hours from Monday 09:00: Monday 17:00.
        #expect(out == [.started(SLAStarted(severity: .critical, metric: .resolution, startedAt: monday0900, dueAt: at("2026-03-03T00:00:00Z")))])
        out = ticket.apply(.activity(.statusChanged(.pending, at: at("2026-03-02T18:00:00Z"))), policy: policy)  // 11:00
        #expect(out == [.paused(SLAPaused(metric: .resolution, status: .pending, remainingSeconds: 6 * 3600), at: at("2026-03-02T18:00:00Z"))])
        // Nothing fires while paused, however long.
        #expect(ticket.apply(.tick(now: at("2026-03-03T23:00:00Z")), policy: policy) == [])
        #expect(ticket.nextDeadline == nil)
        // Resumed Tuesday 11:00 (Wednesday is a holiday): 6 hours left → Tuesday 17:00.
        out = ticket.apply(.activity(.statusChanged(.open, at: at("2026-03-03T18:00:00Z"))), policy: policy)
        #expect(out == [.resumed(SLAResumed(metric: .resolution, status: .open, dueAt: at("2026-03-04T00:00:00Z"), pausedBusinessSeconds: 8 * 3600),
                                 at: at("2026-03-03T18:00:00Z"))])
        out = ticket.apply(.activity(.statusChanged(.solved, at: at("2026-03-03T20:00:00Z"))), policy: policy)
        #expect(out == [.met(SLAMet(metric: .resolution, dueAt: at("2026-03-04T00:00:00Z"), respondedAt: at("2026-03-03T20:00:00Z"),
                                    businessSecondsUsed: 4 * 3600))])
        #expect(ticket.resolution?.phase == .met)
    }

    @Test func aResumedResolutionSkipsTheCalendarsHoliday() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .critical, openedAt: monday0900, plan: nil), policy: policy)
        _ = ticket.apply(.activity(.statusChanged(.onHold, at: at("2026-03-02T18:00:00Z"))), policy: policy)  // Mon 11:00, 6 h left
        // Resumed Tuesday 16:00: one hour on Tuesday, Wednesday 4 March is a holiday, five on Thursday.
        let out = ticket.apply(.activity(.statusChanged(.open, at: at("2026-03-03T23:00:00Z"))), policy: policy)
        guard case .resumed(let resumed, _)? = out.first else { Issue.record("\(out)"); return }
        #expect(resumed.dueAt == at("2026-03-05T21:00:00Z"))
        #expect(resumed.pausedBusinessSeconds == 13 * 3600, "Mon 11:00–17:00 and Tue 09:00–16:00")
        // The premium plan's around-the-clock calendar has no such holiday (its own list is empty).
        #expect(policy.forPlan("premium").calendar(for: .critical).holidays.isEmpty)
    }

    @Test func aPauseAcrossTheWeekendAndDSTCountsOnlyBusinessTime() {
        var ticket = TicketMetrics()
        // Friday 6 March 15:00 MST; resolution of a major ticket: 16 business hours.
        let opened = at("2026-03-06T22:00:00Z")
        _ = ticket.apply(.classified(severity: .major, openedAt: opened, plan: nil), policy: policy)
        _ = ticket.apply(.activity(.statusChanged(.onHold, at: at("2026-03-06T23:00:00Z"))), policy: policy)  // Fri 16:00 MST
        // Resumed Monday 10:00 MDT (DST began Sunday): paused 1 h on Friday and 1 h on Monday.
        let out = ticket.apply(.activity(.statusChanged(.open, at: at("2026-03-09T16:00:00Z"))), policy: policy)
        guard case .resumed(let resumed, _)? = out.first else { Issue.record("\(out)"); return }
        #expect(resumed.pausedBusinessSeconds == 2 * 3600)
        // 1 h used on Friday, 15 left from Monday 10:00 MDT: Mon 7 h, Tue 8 h → Wed 4 March is not a holiday
        // this week (holiday is 2026-03-04, last week): Tuesday 17:00 MDT.
        #expect(resumed.dueAt == at("2026-03-10T23:00:00Z"))
        // Pausing never brings the due instant forward.
        let unpaused = policy.calendar.due(start: opened, businessDuration: .seconds(16 * 3600))
        #expect(resumed.dueAt >= unpaused)
    }

    @Test func aResolutionPastItsTargetBreachesAtTheDueInstant() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .critical, openedAt: monday0900, plan: nil), policy: policy)
        // The warning at 75 %: Monday 15:00.
        var out = ticket.apply(.tick(now: at("2026-03-02T22:00:00Z")), policy: policy)
        #expect(out == [.warning(SLAWarning(metric: .resolution, dueAt: at("2026-03-03T00:00:00Z"), remainingSeconds: 2 * 3600),
                                 at: at("2026-03-02T22:00:00Z"), severity: .critical)])
        out = ticket.apply(.tick(now: at("2026-03-03T01:00:00Z")), policy: policy)
        #expect(out == [.breached(SLABreached(metric: .resolution, severity: .critical, dueAt: at("2026-03-03T00:00:00Z")),
                                      at: at("2026-03-03T00:00:00Z"))])
        // Solving it later ends nothing more.
        #expect(ticket.apply(.activity(.statusChanged(.solved, at: at("2026-03-03T02:00:00Z"))), policy: policy) == [])
    }

    // MARK: Next reply and periodic updates

    @Test func nextReplyCyclesStartAtCustomerMessagesAfterTheFirstResponse() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .major, openedAt: monday0900, plan: nil), policy: policy)
        // Before the first response, the first-response clock is what runs.
        #expect(ticket.apply(.activity(.customerMessage(at: at("2026-03-02T16:30:00Z"))), policy: policy) == [])
        _ = ticket.apply(.activity(.agentMessage(at: at("2026-03-02T17:00:00Z"))), policy: policy)
        var out = ticket.apply(.activity(.customerMessage(at: at("2026-03-02T18:00:00Z"))), policy: policy)
        #expect(out == [.started(SLAStarted(severity: .major, metric: .nextReply, instance: 1, startedAt: at("2026-03-02T18:00:00Z"),
                                            dueAt: at("2026-03-02T22:00:00Z")))])
        // A second customer message while the cycle runs starts nothing.
        #expect(ticket.apply(.activity(.customerMessage(at: at("2026-03-02T19:00:00Z"))), policy: policy) == [])
        out = ticket.apply(.activity(.agentMessage(at: at("2026-03-02T20:00:00Z"))), policy: policy)
        #expect(out == [.met(SLAMet(metric: .nextReply, instance: 1, dueAt: at("2026-03-02T22:00:00Z"), respondedAt: at("2026-03-02T20:00:00Z"),
                                    businessSecondsUsed: 2 * 3600))])
        out = ticket.apply(.activity(.customerMessage(at: at("2026-03-02T21:00:00Z"))), policy: policy)  // 14:00 MST
        #expect(out.first.map { $0.instance } == 2)
        // Unanswered: 4 business hours from Monday 14:00 is Tuesday 10:00.
        out = ticket.apply(.tick(now: at("2026-03-03T17:00:00Z")), policy: policy)
        #expect(out.last == .breached(SLABreached(metric: .nextReply, instance: 2, severity: .major, dueAt: at("2026-03-03T17:00:00Z")),
                                      at: at("2026-03-03T17:00:00Z")))
    }

    @Test func periodicUpdatesAreOwedBetweenAgentMessagesUntilResolved() {
        var ticket = TicketMetrics()
        let premium = policy.forPlan("premium")
        // Premium critical: around the clock, an update every hour, warning at half.
        let opened = at("2026-03-07T22:00:00Z")  // Saturday
        _ = ticket.apply(.classified(severity: .critical, openedAt: opened, plan: "premium"), policy: premium)
        var out = ticket.apply(.activity(.agentMessage(at: at("2026-03-07T22:10:00Z"))), policy: premium)
        #expect(out == [.started(SLAStarted(severity: .critical, metric: .periodicUpdate, instance: 1, plan: "premium",
                                            startedAt: at("2026-03-07T22:10:00Z"), dueAt: at("2026-03-07T23:10:00Z")))])
        out = ticket.apply(.tick(now: at("2026-03-07T22:40:00Z")), policy: premium)
        #expect(out == [.warning(SLAWarning(metric: .periodicUpdate, instance: 1, dueAt: at("2026-03-07T23:10:00Z"), remainingSeconds: 1800),
                                 at: at("2026-03-07T22:40:00Z"), severity: .critical)])
        out = ticket.apply(.activity(.agentMessage(at: at("2026-03-07T23:00:00Z"))), policy: premium)
        #expect(out.map(\.instance) == [1, 2])
        #expect(out.first.map { if case .met = $0 { true } else { false } } == true)
        // Period 2 is missed; the next update starts period 3.
        out = ticket.apply(.tick(now: at("2026-03-08T01:00:00Z")), policy: premium)
        #expect(out.last.map { if case .breached = $0 { true } else { false } } == true)
        out = ticket.apply(.activity(.agentMessage(at: at("2026-03-08T01:30:00Z"))), policy: premium)
        #expect(out.map(\.instance) == [3])
        // Solved: the period running stops; none starts after.
        out = ticket.apply(.activity(.statusChanged(.solved, at: at("2026-03-08T02:00:00Z"))), policy: premium)
        #expect(out.contains(.stopped(SLAStopped(metric: .periodicUpdate, instance: 3, reason: "the ticket was solved"), at: at("2026-03-08T02:00:00Z"))))
        #expect(ticket.apply(.activity(.agentMessage(at: at("2026-03-08T02:05:00Z"))), policy: premium) == [])
    }

    @Test func aSeverityChangeRecomputesFromEachClocksStart() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .minor, openedAt: monday0900, plan: nil), policy: policy)
        // Minor: 40 h to resolve. Raised to critical on Tuesday 10:00: 8 h from Monday 09:00 is
        // already past, so the resolution breaches at the change.
        let change = at("2026-03-03T17:00:00Z")
        let out = ticket.apply(.activity(.severityChanged(.critical, at: change)), policy: policy)
        #expect(out.contains(.recalculated(SLARecalculated(metric: .resolution, oldSeverity: .minor, severity: .critical,
                                                           dueAt: at("2026-03-03T00:00:00Z")), at: change)))
        #expect(out.contains(.breached(SLABreached(metric: .resolution, severity: .critical, dueAt: at("2026-03-03T00:00:00Z")), at: change)))
    }

    @Test func aSeverityWithoutTheMetricStopsIt() {
        var ticket = TicketMetrics()
        let premium = policy.forPlan("premium")
        _ = ticket.apply(.classified(severity: .major, openedAt: monday0900, plan: "premium"), policy: premium)
        let out = ticket.apply(.activity(.severityChanged(.minor, at: at("2026-03-02T17:00:00Z"))), policy: premium)
        #expect(out == [.stopped(SLAStopped(metric: .resolution, reason: "minor tickets have no resolution target"), at: at("2026-03-02T17:00:00Z"))])
    }

    @Test func activityAlreadyAppliedChangesNothingWhenHandledAgain() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .major, openedAt: monday0900, plan: nil), policy: policy)
        let inputs: [TicketMetrics.Input] = [
            .activity(.agentMessage(at: at("2026-03-02T16:10:00Z")), position: 1),
            .activity(.customerMessage(at: at("2026-03-02T17:00:00Z")), position: 2),
            .activity(.customerMessage(at: at("2026-03-02T17:30:00Z")), position: 3),
            .activity(.agentMessage(at: at("2026-03-02T18:00:00Z")), position: 4),
            .activity(.statusChanged(.onHold, at: at("2026-03-02T18:30:00Z")), position: 5),
        ]
        for input in inputs { _ = ticket.apply(input, policy: policy) }
        let state = ticket
        // A changelog value written after these, then the same records again (their offsets):
        // no second reply cycle from the 17:30 message, no second pause.
        for input in inputs { #expect(ticket.apply(input, policy: policy) == []) }
        #expect(ticket == state)
        #expect(ticket.nextReply?.instance == 1)
    }

    @Test func aCustomerMessageAlreadyAnsweredStartsNoCycle() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .major, openedAt: monday0900, plan: nil), policy: policy)
        _ = ticket.apply(.activity(.agentMessage(at: at("2026-03-02T16:10:00Z"))), policy: policy)
        _ = ticket.apply(.activity(.customerMessage(at: at("2026-03-02T17:00:00Z"))), policy: policy)
        _ = ticket.apply(.activity(.agentMessage(at: at("2026-03-02T18:00:00Z"))), policy: policy)
        // Written at 17:30, seen after the 18:00 reply that answered it.
        #expect(ticket.apply(.activity(.customerMessage(at: at("2026-03-02T17:30:00Z"))), policy: policy) == [])
        // Written in the same second as that reply, and posted after it: a new cycle.
        #expect(ticket.apply(.activity(.customerMessage(at: at("2026-03-02T18:00:00Z"))), policy: policy).count == 1)
    }

    @Test func aCustomerMessageThatReopensASolvedTicketGetsItsReplyCycle() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .major, openedAt: monday0900, plan: nil), policy: policy)
        _ = ticket.apply(.activity(.agentMessage(at: at("2026-03-02T16:10:00Z"))), policy: policy)
        _ = ticket.apply(.activity(.statusChanged(.solved, at: at("2026-03-02T17:00:00Z"))), policy: policy)
        // The customer writes back to the solved ticket; the helpdesk reopens it a minute later.
        #expect(ticket.apply(.activity(.customerMessage(at: at("2026-03-02T18:00:00Z"))), policy: policy) == [])
        let out = ticket.apply(.activity(.statusChanged(.open, at: at("2026-03-02T18:01:00Z"))), policy: policy)
        #expect(out == [.started(SLAStarted(severity: .major, metric: .nextReply, instance: 1, startedAt: at("2026-03-02T18:00:00Z"),
                                            dueAt: at("2026-03-02T22:00:00Z")))])
    }

    @Test func aPauseAfterTheWarningDoesNotWarnAgain() {
        var ticket = TicketMetrics()
        _ = ticket.apply(.classified(severity: .critical, openedAt: monday0900, plan: nil), policy: policy)
        #expect(ticket.apply(.tick(now: at("2026-03-02T22:00:00Z")), policy: policy).count == 1, "the warning at 75 %")
        _ = ticket.apply(.activity(.statusChanged(.pending, at: at("2026-03-02T22:30:00Z"))), policy: policy)
        let resumed = ticket.apply(.activity(.statusChanged(.open, at: at("2026-03-03T17:00:00Z"))), policy: policy)
        #expect(resumed.count == 1, "\(resumed)")
        #expect(ticket.apply(.tick(now: at("2026-03-03T17:30:00Z")), policy: policy) == [])
        // A severity change to a new due instant warns anew.
        let changed = ticket.apply(.activity(.severityChanged(.major, at: at("2026-03-03T17:40:00Z"))), policy: policy)
        #expect(changed.count == 1)
        #expect(ticket.resolution?.warned == false)
    }

    @Test func theStateSurvivesTheChangelog() throws {
        var ticket = TicketMetrics()
        _ = ticket.apply(.activity(.statusChanged(.pending, at: monday0900)), policy: policy)
        let waiting = try TicketMetrics(changelogText: ticket.changelogText)
        #expect(waiting == ticket)
        _ = ticket.apply(.classified(severity: .critical, openedAt: monday0900, plan: "gold plan/1"), policy: policy)
        _ = ticket.apply(.activity(.statusChanged(.open, at: at("2026-03-02T17:00:00Z"))), policy: policy)
        _ = ticket.apply(.activity(.agentMessage(at: at("2026-03-02T17:30:00Z")), position: 7), policy: policy)
        _ = ticket.apply(.activity(.customerMessage(at: at("2026-03-02T17:40:00Z")), position: 8), policy: policy)
        _ = ticket.apply(.tick(now: at("2026-03-02T22:00:00Z")), policy: policy)
        _ = ticket.apply(.activity(.statusChanged(.onHold, at: at("2026-03-02T23:00:00Z")), position: 9), policy: policy)
        #expect(ticket.resolution?.warned == true && ticket.resolution?.phase == .paused)
        ticket.observe(.breached(SLABreached(metric: .nextReply, instance: 1, severity: .critical, dueAt: monday0900), at: monday0900))
        #expect(try TicketMetrics(changelogText: ticket.changelogText) == ticket)
        var clock = FirstResponseClock(ticketId: TicketID(rawValue: "tk_1"), source: "s", externalId: "e")
        clock.plan = "gold plan/1"
        let state = TicketSLAState(firstResponse: clock, metrics: ticket)
        #expect(try TicketSLAState(changelogValue: state.changelogValue) == state)
        // A clock written before the further metrics reads as one without them.
        #expect(try TicketSLAState(changelogValue: clock.changelogValue).metrics == nil)
    }
}

// MARK: Properties

/// A ticket's activity as the sla-timer may receive it, for the properties below.
struct MetricStory: CustomStringConvertible {
    var severity: Severity
    var plan: String?
    var openedAt: Date
    var activity: [TicketMetrics.Activity]

    static func random(_ random: inout SplitMix64) -> MetricStory {
        let opened = Date(timeIntervalSince1970: 1_767_225_600 + Double(random.next() % 31_536_000))
        var time = opened
        var activity = [TicketMetrics.Activity]()
        for _ in 0..<Int(random.next() % 12) {
            time = time.addingTimeInterval(Double(random.next() % (2 * 86_400)))
            switch random.next() % 8 {
            case 0, 1: activity.append(.customerMessage(at: time))
            case 2, 3: activity.append(.agentMessage(at: time))
            case 4: activity.append(.statusChanged([.pending, .onHold, .open][Int(random.next() % 3)], at: time))
            case 5: activity.append(.statusChanged(.open, at: time))
            case 6: activity.append(.severityChanged(Severity.allCases[Int(random.next() % 3)], at: time))
            default: activity.append(.statusChanged(.solved, at: time))
            }
        }
        return MetricStory(severity: Severity.allCases[Int(random.next() % 3)], plan: random.next() % 2 == 0 ? nil : "premium",
                           openedAt: opened, activity: activity)
    }

    var inputs: [TicketMetrics.Input] {
        [.classified(severity: severity, openedAt: openedAt, plan: plan)] + activity.map { .activity($0) }
            + [.tick(now: openedAt.addingTimeInterval(60 * 86_400))]
    }

    var description: String { "\(severity) \(plan ?? "-") opened \(ISO8601.format(openedAt)): \(activity)" }
}

@Suite("Further SLA metrics: properties")
struct TicketMetricsPropertyTests {
    let policy = try! SLAPolicy.load(yaml: metricsPolicyYAML)

    /// Every instance of every metric ends at most once; every instance not left paused ends.
    @Test func everyInstanceEndsExactlyOnce() async throws {
        let policy = self.policy
        let (runs, failures) = try await FuzzRun(seconds: 1).runOffThePool(minimumRuns: 1000) { random, seed in
            var failures = [String]()
            let story = MetricStory.random(&random)
            var ticket = TicketMetrics()
            let plan = policy.forPlan(story.plan)
            var outputs = [MetricOutput]()
            for input in story.inputs { outputs += ticket.apply(input, policy: plan) }
            var terminals = [String: Int]()
            var started = Set<String>()
            for output in outputs {
                let key = "\(output.metric)/\(output.instance)"
                switch output {
                case .started: started.insert(key)
                case .met, .breached, .stopped: terminals[key, default: 0] += 1
                default: break
                }
            }
            if !(terminals.values.allSatisfy { $0 == 1 }) { failures.append("seed \(seed): \(story)") }
            let stillPaused = Set(ticket.clocks.filter { $0.phase == .paused }.map { "\($0.metric)/\($0.instance)" })
            if !(started.subtracting(stillPaused) == Set(terminals.keys)) { failures.append("seed \(seed): \(story)") }
            // Ids never collide: a transition of an instance happens once.
            let ids = outputs.map(\.cause)
            if !(Set(ids).count == ids.count) { failures.append("seed \(seed): \(story) → \(ids)") }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(runs >= 1000)
    }

    /// Wherever the classification falls among the activity, the clocks end the same.
    @Test func theClassificationsPlaceDoesNotMatter() async throws {
        let policy = self.policy
        let (runs, failures) = try await FuzzRun(seconds: 1).runOffThePool(minimumRuns: 500) { random, seed in
            var failures = [String]()
            let story = MetricStory.random(&random)
            let plan = policy.forPlan(story.plan)
            let ends = (0...story.activity.count).map { position -> [String] in
                var ticket = TicketMetrics()
                var inputs = story.activity.map { TicketMetrics.Input.activity($0) }
                inputs.insert(.classified(severity: story.severity, openedAt: story.openedAt, plan: story.plan), at: position)
                var outputs = [MetricOutput]()
                for input in inputs + [.tick(now: story.openedAt.addingTimeInterval(60 * 86_400))] {
                    outputs += ticket.apply(input, policy: plan)
                }
                return outputs.map { "\($0.cause) \($0.at)" }.sorted()
            }
            if !(Set(ends).count == 1) { failures.append("seed \(seed): \(story)") }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(runs >= 500)
    }

    /// A crash after publishing, before saving: the state saved earlier learns what was
    /// published, the inputs are handled again, and the events are those of a run without the
    /// crash, none twice.
    @Test func aRestartNeitherRepeatsNorContradicts() async throws {
        let policy = self.policy
        let (runs, failures) = try await FuzzRun(seconds: 1).runOffThePool(minimumRuns: 1000) { random, seed in
            var failures = [String]()
            let story = MetricStory.random(&random)
            let plan = policy.forPlan(story.plan)
            let inputs = story.inputs
            var whole = TicketMetrics()
            var perInput = [[MetricOutput]]()
            for input in inputs { perInput.append(whole.apply(input, policy: plan)) }
            let saved = Int(random.next() % UInt64(inputs.count))
            let crashed = saved + Int(random.next() % UInt64(inputs.count - saved))
            var ticket = TicketMetrics()
            for input in inputs[..<saved] { _ = ticket.apply(input, policy: plan) }
            for output in perInput[saved..<crashed].joined() { ticket.observe(output) }
            var again = [MetricOutput]()
            for input in inputs[saved...] { again += ticket.apply(input, policy: plan) }
            let published = Set(perInput[..<crashed].joined().map(\.cause))
            // What is produced again either was published already (same id, dropped as a
            // duplicate downstream) or is what the run without the crash produced after it.
            let expected = perInput[crashed...].joined().map(\.cause)
            let fresh = again.map(\.cause).filter { !published.contains($0) }
            if !(fresh == expected) { failures.append("seed \(seed) saved \(saved) crashed \(crashed): \(story)") }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(runs >= 1000)
    }

    /// Pausing never shortens the business time counted: with pauses, the due instant is never
    /// earlier than without, and the time counted to any instant never more.
    @Test func pausingNeverShortensTheTimeCounted() async throws {
        let calendar = policy.calendar
        let (runs, failures) = try await FuzzRun(seconds: 1).runOffThePool(minimumRuns: 2000) { random, seed in
            var failures = [String]()
            let start = Date(timeIntervalSince1970: 1_767_225_600 + Double(random.next() % 31_536_000))
            let target = Duration.seconds(Int64(1 + random.next() % (40 * 3600)))
            var pauses = [Range<Date>]()
            var time = start
            for _ in 0..<Int(random.next() % 4) {
                let from = time.addingTimeInterval(Double(random.next() % 200_000))
                let to = from.addingTimeInterval(Double(1 + random.next() % 200_000))
                pauses.append(from..<to)
                time = to
            }
            let plain = calendar.due(start: start, businessDuration: target)
            let paused = calendar.due(start: start, businessDuration: target, pauses: pauses)
            if !(paused >= plain) { failures.append("seed \(seed)") }
            let probe = start.addingTimeInterval(Double(random.next() % 1_000_000))
            if !(calendar.businessElapsed(from: start, to: probe, pauses: pauses) <= calendar.businessElapsed(from: start, to: probe)) { failures.append("seed \(seed)") }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(runs >= 2000)
    }
}
