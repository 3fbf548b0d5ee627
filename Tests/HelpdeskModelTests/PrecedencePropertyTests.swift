import Foundation
import HelpdeskModel
import Testing
import TestSupport

/// One ticket's inputs as Kafka may hand them to the sla-timer: the classification on its own
/// topic, activity (severity changes, replies, status changes) in the order it was published.
struct TicketStory: CustomStringConvertible {
    var classified: Severity
    var openedAt: Date
    var activity: [FirstResponseClock.Input]

    static func random(_ random: inout SplitMix64) -> TicketStory {
        let opened = Date(timeIntervalSince1970: 1_767_225_600 + Double(random.next() % 31_536_000))
        var time = opened
        var activity = [FirstResponseClock.Input]()
        for index in 0..<Int(random.next() % 5) {
            // Activity is published in time order; replies and changes hours or days apart.
            time = time.addingTimeInterval(Double(random.next() % (3 * 86_400)))
            switch random.next() % 4 {
            case 0, 1:
                let severity = Severity.allCases[Int(random.next() % 3)]
                activity.append(.severityChanged(to: severity, at: time, eventId: EventID.derive(["change", "\(index)"])))
            case 2: activity.append(.agentReplied(at: time))
            default: activity.append(.resolved(at: time, status: .solved))
            }
        }
        return TicketStory(classified: Severity.allCases[Int(random.next() % 3)], openedAt: opened, activity: activity)
    }

    /// The classification handed over after `position` activity inputs, then time passes.
    func clock(classifiedAfter position: Int, policy: SLAPolicy) -> FirstResponseClock {
        var clock = newClock()
        var inputs = activity
        inputs.insert(.classified(severity: classified, openedAt: openedAt, eventId: classifiedID), at: position)
        for input in inputs { _ = clock.apply(input, policy: policy) }
        _ = clock.apply(.tick(now: openedAt.addingTimeInterval(400 * 86_400)), policy: policy)
        return clock
    }

    var description: String { "classified \(classified) opened \(ISO8601.format(openedAt)), activity \(activity)" }
}

@Suite("Severity precedence")
struct PrecedencePropertyTests {
    /// Whatever the classification's place among the activity, the clock ends with the same
    /// severity, deadline and outcome: a person's severity wins over the classifier's whenever
    /// either arrives, and the clock starts at the ticket's openedAt.
    @Test func everyInterleavingEndsTheSame() async {
        let fuzz = FuzzRun(seconds: 1)
        let (runs, _) = await fuzz.run(minimumRuns: 2000) { random in
            let story = TicketStory.random(&random)
            let outcomes = (0...story.activity.count).map { position in
                let clock = story.clock(classifiedAfter: position, policy: .standard)
                return "\(clock.severity.map { "\($0)" } ?? "-") due \(clock.dueAt.map(ISO8601.format) ?? "-") \(clock.phase) started \(clock.startedAt.map(ISO8601.format) ?? "-")"
            }
            #expect(Set(outcomes).count == 1, "seed \(fuzz.seed): \(story) → \(outcomes)")
            return true
        }
        #expect(runs >= 2000)
    }

    @Test func anAgentsCriticalBeforeTheClassificationRunsAOneHourClock() throws {
        var clock = newClock()
        // The agent's change reaches the sla-timer before the classifier's minor.
        _ = clock.apply(.severityChanged(to: .critical, at: at("2026-03-09T15:01:00Z"), eventId: EventID.derive(["c"])), policy: .standard)
        let outputs = clock.apply(.classified(severity: .minor, openedAt: at("2026-03-09T15:00:00Z"), eventId: classifiedID), policy: .standard)
        // The same events as when the classification comes first: the agent's severity from 15:01 on.
        #expect(outputs == [
            .started(SLAStarted(severity: .minor, startedAt: at("2026-03-09T15:00:00Z"), dueAt: at("2026-03-09T23:00:00Z")),
                     cause: classifiedID.rawValue),
            .recalculated(SLARecalculated(oldSeverity: .minor, severity: .critical, dueAt: at("2026-03-09T16:00:00Z")),
                          cause: EventID.derive(["c"]).rawValue, at: at("2026-03-09T15:01:00Z")),
        ])
        #expect(clock.severity == .critical)
        #expect(clock.dueAt == at("2026-03-09T16:00:00Z"))
        // The state kept while waiting survives the changelog.
        var waiting = newClock()
        _ = waiting.apply(.severityChanged(to: .critical, at: at("2026-03-09T15:01:00Z"), eventId: EventID.derive(["c"])), policy: .standard)
        _ = waiting.apply(.agentReplied(at: at("2026-03-09T15:30:00Z")), policy: .standard)
        let restored = try FirstResponseClock(changelogValue: waiting.changelogValue)
        #expect(restored == waiting)
        #expect(restored.pending.count == 2)
    }

    @Test func aChangeAfterTheResponseOnlySetsTheFinalSeverity() {
        var clock = newClock()
        _ = clock.apply(.agentReplied(at: at("2026-03-09T17:30:00Z")), policy: .standard)
        _ = clock.apply(.severityChanged(to: .critical, at: at("2026-03-10T15:00:00Z"), eventId: EventID.derive(["c"])), policy: .standard)
        let outputs = clock.apply(.classified(severity: .minor, openedAt: at("2026-03-09T15:00:00Z"), eventId: classifiedID), policy: .standard)
        #expect(types(outputs) == ["started", "met"])
        #expect(clock.severity == .critical)
        #expect(clock.dueAt == at("2026-03-09T23:00:00Z"), "the minor deadline that decided the outcome")
    }

    @Test func aRestoredClockKeepsTheDeadlineItAnnounced() {
        // Announced under a policy whose critical target was 2 hours; the policy now says 1.
        var clock = newClock()
        clock.observe(.started(SLAStarted(severity: .critical, startedAt: at("2026-03-09T15:00:00Z"), dueAt: at("2026-03-09T17:00:00Z")),
                               cause: ""), policy: .standard)
        #expect(clock.dueAt == at("2026-03-09T17:00:00Z"))
        #expect(clock.apply(.tick(now: at("2026-03-09T16:30:00Z")), policy: .standard).allSatisfy {
            if case .breached = $0 { false } else { true }
        })
        clock.observe(.recalculated(SLARecalculated(oldSeverity: .critical, severity: .major, dueAt: at("2026-03-10T19:00:00Z")),
                                    cause: "", at: at("2026-03-09T15:05:00Z")), policy: .standard)
        #expect(clock.dueAt == at("2026-03-10T19:00:00Z"))
        // A severity change recomputes under the policy in force.
        _ = clock.apply(.severityChanged(to: .critical, at: at("2026-03-09T15:10:00Z"), eventId: EventID.derive(["c"])), policy: .standard)
        #expect(clock.dueAt == at("2026-03-09T16:00:00Z"))
    }
}

/// What a restart may find: a publish cut half-way, or state written by the previous release.
@Suite("Clock restore")
struct ClockRestoreTests {
    @Test func aReplyBeforeTheClassificationIsDecidedEvenWhenOnlyTheStartWasPublished() throws {
        var clock = newClock()
        _ = clock.apply(.agentReplied(at: at("2026-03-09T15:30:00Z")), policy: .standard)
        let saved = clock.changelogValue  // the state written before the classification arrived
        let outputs = clock.apply(.classified(severity: .critical, openedAt: at("2026-03-09T15:00:00Z"), eventId: classifiedID),
                                  policy: .standard)
        #expect(types(outputs) == ["started", "met"])
        // The crash cut the publish after sla.started: the restored clock observes it, and the
        // redelivered classification must still decide the reply.
        var restored = try FirstResponseClock(changelogValue: saved)
        restored.observe(outputs[0], policy: .standard)
        #expect(types(restored.apply(.classified(severity: .critical, openedAt: at("2026-03-09T15:00:00Z"), eventId: classifiedID),
                                     policy: .standard)) == ["met"])
        // Had both been published, nothing is decided twice.
        var whole = try FirstResponseClock(changelogValue: saved)
        for output in outputs { whole.observe(output, policy: .standard) }
        #expect(whole.apply(.classified(severity: .critical, openedAt: at("2026-03-09T15:00:00Z"), eventId: classifiedID),
                            policy: .standard).isEmpty)
    }

    @Test func aWaitingClockWrittenByThePreviousReleaseKeepsItsReply() throws {
        // The previous release kept a reply seen before the classification only as respondedAt.
        let old = Array(#"{"externalId":"CRM-1042","phase":"waiting","respondedAt":"2026-03-09T15:30:00Z","source":"crm","ticketId":"\#(newClock().ticketId.rawValue)","warned":false}"#.utf8)
        var clock = try FirstResponseClock(changelogValue: old)
        #expect(types(clock.apply(.classified(severity: .critical, openedAt: at("2026-03-09T15:00:00Z"), eventId: classifiedID),
                                  policy: .standard)) == ["started", "met"])
    }

    @Test func aTicketNeverClassifiedKeepsItsFirstReplyAndLatestSeverityWithinTheLimit() {
        var clock = newClock()
        for minute in 0..<100 {
            _ = clock.apply(.agentReplied(at: at("2026-03-09T16:00:00Z").addingTimeInterval(Double(minute * 60))), policy: .standard)
            _ = clock.apply(.severityChanged(to: minute == 99 ? .critical : .major, at: at("2026-03-09T15:00:00Z").addingTimeInterval(Double(minute)),
                                             eventId: EventID.derive(["c", "\(minute)"])), policy: .standard)
        }
        _ = clock.apply(.resolved(at: at("2026-03-12T15:00:00Z"), status: .solved), policy: .standard)
        #expect(clock.pending.count <= FirstResponseClock.pendingLimit)
        #expect(clock.pending.filter { if case .replied = $0 { true } else { false } }.count == 1)
        #expect(clock.pending.contains(.resolved(at: at("2026-03-12T15:00:00Z"))), "the resolution is not crowded out")
        _ = clock.apply(.classified(severity: .minor, openedAt: at("2026-03-09T15:00:00Z"), eventId: classifiedID), policy: .standard)
        #expect(clock.severity == .critical, "the latest change wins")
    }
}
