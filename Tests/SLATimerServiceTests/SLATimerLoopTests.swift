import Foundation
import HelpdeskModel
import Logging
import MessageBus
import ServiceRuntime
import SLATimerService
import Synchronization
import Testing
import TestSupport

/// sla-timer instances on the in-memory broker, on one virtual clock.
final class SLATimerHarness: StatefulServiceHarness, @unchecked Sendable {
    let metrics = SLATimerMetrics()

    init(start: Date, partitions: Int = 6, upstream: Upstream? = nil) {
        let metrics = self.metrics
        super.init(
            service: SLATimerPartition.service,
            source: .init(group: ConsumerGroups.slaTimer, inputs: [Topics.classified, Topics.activity],
                          changelog: Topics.slaTimerChangelog, output: Topics.slaEvents, upstream: upstream,
                          gates: { _ in [LateInputGate(metrics: metrics)] }),
            otherTopics: [Topics.notifications], start: start, partitions: partitions,
            makeState: { SLATimerPartition(partition: $0, policy: .standard, metrics: metrics) })
    }

    /// Each ticket's latest state in the changelog.
    func latestClocks() -> [FirstResponseClock] {
        latestChangelogValues().compactMap { try? FirstResponseClock(changelogValue: $0) }
    }
}

@Suite("sla-timer service", .serialized, .timeLimit(.minutes(2)))
struct SLATimerLoopTests {
    // Tuesday 2026-01-13 09:00 MST.
    static let opening = at("2026-01-13T16:00:00Z")
    let tickets = (0..<24).map { TicketInputs("CRM-\($0)") }

    @Test func clocksStartWarnAndBreachOnTheInjectedClockAndSurviveARestart() async throws {
        let harness = SLATimerHarness(start: Self.opening)
        try await harness.publish(tickets.map { $0.classified(.critical, openedAt: Self.opening) })
        let first = try harness.startInstance()
        try await harness.eventually("every clock started") { harness.events(SLAStarted.type).count == 24 }
        #expect(harness.metrics.openClocks(.critical) == 24)

        harness.clock.advance(to: Self.opening.addingTimeInterval(45 * 60))
        try await harness.eventually("every warning") { harness.events(SLAWarning.type).count == 24 }
        #expect(harness.broker.records(in: Topics.notifications).count == 48, "assignee and support lead, per critical policy")

        // A restart: the next instance restores every clock from the changelog.
        first.cancel()
        await first.value
        let second = try harness.startInstance(name: "b")
        try await harness.publish(tickets.prefix(10).map { $0.agentReply(at: Self.opening.addingTimeInterval(50 * 60)) })
        try await harness.eventually("ten clocks met") { harness.events(SLAMet.type).count == 10 }
        harness.clock.advance(to: Self.opening.addingTimeInterval(3600))
        try await harness.eventually("fourteen breaches") { harness.events(SLABreached.type).count == 14 }
        second.cancel()
        await second.value

        let events = harness.events()
        let expected = 72
        #expect(events.count == expected, "24 started, 24 warnings, 10 met, 14 breached; no event twice")
        #expect(Set(events.map(\.envelope.eventId)).count == events.count)
        // The last changelog record of each partition says how far its state reaches.
        let changelog = harness.broker.records(in: Topics.slaTimerChangelog)
        #expect(!changelog.isEmpty)
        for partition in Set(changelog.map(\.partition)) {
            #expect(changelog.last { $0.partition == partition }.flatMap { PartitionCheckpoint(headers: $0.headers) } != nil)
        }
        // Events, changelog and inputs of a ticket share a partition.
        for record in events {
            let input = harness.broker.records(in: Topics.classified).first { $0.key == record.key }!
            #expect(record.partition == input.partition)
        }
    }

    /// `partially`: the process dies half-way through the publish, after the first half of each
    /// partition's records reached the broker (a flush goes out in several requests).
    @Test("a crash between publishing and committing, at any point, loses nothing and repeats nothing",
          arguments: 1...7, [false, true])
    func crashBetweenPublishAndCommit(crashAt: Int, partially: Bool) async throws {
        let harness = SLATimerHarness(start: Self.opening)
        try await harness.publish(tickets.map { $0.classified(.critical, openedAt: Self.opening) })
        let crashing = try harness.startInstance(
            publisher: CrashingPublisher(try harness.broker.makePublisher(), crashAt: crashAt, partially: partially))
        let crashed = Mutex(false)
        let watcher = Task {
            await crashing.value
            crashed.withLock { $0 = true }
        }
        var survivor: Task<Void, Never>?
        // Drive the scenario; when the first instance dies, a new one takes over.
        let stages: [(Date, @Sendable () -> Bool)] = [
            (Self.opening, { harness.events(SLAStarted.type).count >= 24 }),
            (Self.opening.addingTimeInterval(45 * 60), { harness.events(SLAWarning.type).count >= 24 }),
            (Self.opening.addingTimeInterval(3600), { harness.events(SLABreached.type).count >= 24 }),
            // Late replies: recorded in the state (the 7th publish) and as sla.respondedAfterBreach.
            (Self.opening.addingTimeInterval(7200), { harness.latestClocks().filter { $0.respondedAt != nil }.count == 24 }),
        ]
        for (index, (instant, done)) in stages.enumerated() {
            if index == 3 {
                try await harness.publish(tickets.map { $0.agentReply(at: Self.opening.addingTimeInterval(90 * 60)) })
            }
            harness.clock.advance(to: instant)
            if survivor == nil {
                try await harness.eventually("stage done or instance crashed") { done() || crashed.withLock { $0 } }
                if crashed.withLock({ $0 }) { survivor = try harness.startInstance(name: "survivor") }
            }
            try await harness.eventually("stage done") { done() }
        }
        if survivor == nil {
            // The crash came with the stage's last write: the survivor restores after it.
            try await harness.eventually("the instance crashed") { crashed.withLock { $0 } }
            survivor = try harness.startInstance(name: "survivor")
        }
        // A probe behind everything shows the survivor has restored and handled its input.
        try await harness.publish([TicketInputs("probe").agentReply(at: Self.opening)])
        try await harness.eventually("the probe handled") {
            harness.latestClocks().contains { $0.externalId == "probe" }
        }
        survivor?.cancel()
        await survivor?.value
        await watcher.value

        for type in [SLAStarted.type, SLAWarning.type, SLABreached.type] {
            let records = harness.events(type)
            #expect(records.count == 24, "\(type): \(records.count) records")
            #expect(Set(records.map(\.envelope.ticketId)).count == 24)
        }
        #expect(harness.events(SLARespondedAfterBreach.type).count == 24)
        #expect(Set(harness.events(SLARespondedAfterBreach.type).map(\.envelope.ticketId)).count == 24)
        #expect(harness.events().count == 96)
        // Each warning tells the assignee and the support lead, each breach the lead and
        // management: at least once, by id, even when the crash cut them off.
        let notifications = harness.broker.records(in: Topics.notifications)
        #expect(Set(notifications.map(\.envelope.eventId)).count == 24 * 4)
    }

    @Test func aSecondInstanceTakesHalfThePartitionsWithTheirStateAndNothingRepeats() async throws {
        let harness = SLATimerHarness(start: Self.opening)
        try await harness.publish(tickets.map { $0.classified(.major, openedAt: Self.opening) })
        let first = try harness.startInstance()
        try await harness.eventually("every clock started") { harness.events(SLAStarted.type).count == 24 }
        let second = try harness.startInstance(name: "b")
        // Both members must own partitions before time moves, so the rebalance happens mid-run.
        try await harness.eventually("both instances wait on the clock") { harness.clock.sleeperCount == 2 }
        try await harness.publish(tickets.suffix(4).map { $0.agentReply(at: Self.opening.addingTimeInterval(600)) })
        try await harness.eventually("four met") { harness.events(SLAMet.type).count == 4 }
        harness.clock.advance(to: Self.opening.addingTimeInterval(5 * 3600))
        try await harness.eventually("twenty breaches") { harness.events(SLABreached.type).count == 20 }
        first.cancel()
        second.cancel()
        await first.value
        await second.value
        let terminal = harness.events(SLAMet.type) + harness.events(SLABreached.type)
        #expect(terminal.count == 24)
        #expect(Set(terminal.map(\.envelope.ticketId)).count == 24)
        #expect(harness.events(SLAStarted.type).count == 24)
    }

    /// The race a CI run found: the classification read, the reply on its topic but not yet
    /// read when the broker went out of reach, and the deadline falling meanwhile.
    @Test func aDeadlineThatFallsWhileTheBrokerIsOutOfReachWaitsForTheInputOnTheTopic() async throws {
        let harness = SLATimerHarness(start: Self.opening, partitions: 1)
        let answered = TicketInputs("CRM-answered")
        let unanswered = TicketInputs("CRM-unanswered")
        try await harness.publish([answered, unanswered].map { $0.classified(.critical, openedAt: Self.opening) })
        let instance = try harness.startInstance()
        try await harness.eventually("both clocks started") { harness.events(SLAStarted.type).count == 2 }

        harness.broker.setReachable(false)
        try await harness.publish([answered.agentReply(at: Self.opening.addingTimeInterval(600))])
        let outage = Self.opening.addingTimeInterval(2 * 3600)
        harness.clock.advance(to: outage)
        // The loop wakes for the due timers, cannot ask how far the input goes, and waits to ask again.
        try await harness.eventually("the loop holds its timers, or fires them") {
            (harness.clock.earliestWake ?? .distantPast) > outage || harness.events().count > 2
        }
        #expect(harness.events().count == 2, "nothing fires while the broker is out of reach")
        #expect(harness.clock.earliestWake == outage.addingTimeInterval(0.5))

        harness.broker.setReachable(true)
        try await harness.eventually("the reply, read at last, meets its clock") { harness.events(SLAMet.type).count == 1 }
        harness.clock.advance(to: outage.addingTimeInterval(0.5))
        try await harness.eventually("the unanswered ticket breaches") { harness.events(SLABreached.type).count == 1 }
        instance.cancel()
        await instance.value

        expectMet(answered, breached: unanswered, at: Self.opening.addingTimeInterval(3600), in: harness)
        #expect(harness.events(SLAWarning.type).isEmpty, "a warning that fires with its breach is left out")
    }

    /// The false breach of a 10,000-ticket kill run (docs/reliability.md, "Input still upstream"):
    /// a reply sent before the deadline sat in tickets.inbound because the intake that took it
    /// was killed before publishing it. Without an upstream, nothing on the sla-timer's own
    /// topics says it is coming, and both tickets breach.
    @Test("a deadline waits for the reply intake has taken but not yet published", arguments: [true, false])
    func aDeadlineWaitsForInputStillUpstream(waitsForIntake: Bool) async throws {
        let (harness, answered, unanswered, instance) = try await twoCriticalClocks(
            upstream: waitsForIntake ? SLATimerPartition.upstream : nil)
        let intake = try await IntakeStandIn(harness.broker)

        // The reply reaches tickets.inbound ten minutes in; intake takes it and is killed before publishing it.
        try await harness.publish([OutgoingRecord(topic: Topics.inbound, key: "CRM-answered", value: Array("reply".utf8))])
        try await intake.take(1)
        let deadline = Self.opening.addingTimeInterval(3600)
        harness.clock.advance(to: deadline)
        guard waitsForIntake else {
            try await harness.eventually("both tickets breach") { harness.events(SLABreached.type).count == 2 }
            instance.cancel()
            await instance.value
            return
        }
        try await expectHeld(at: deadline, in: harness, "nothing fires while intake holds a record from before the deadline")
        harness.clock.advance(to: deadline.addingTimeInterval(30))
        try await harness.eventually("the loop asks again") { harness.clock.earliestWake == deadline.addingTimeInterval(30.01) }
        #expect(harness.events().count == 2, "nor thirty seconds later")

        // A new intake instance publishes the reply (dated when the CRM sent it) and commits.
        try await intake.handleAndCommit(published: [answered.agentReply(at: Self.opening.addingTimeInterval(600))])
        harness.clock.advance(to: deadline.addingTimeInterval(30.01))
        try await harness.eventually("the reply meets its clock") { harness.events(SLAMet.type).count == 1 }
        // The reply came 50 minutes after it was sent: the late-input hold keeps the other
        // deadline for the hold's threshold after it (LateInputHoldTests), then it fires.
        let release = deadline.addingTimeInterval(33)
        try await harness.eventually("the loop waits for the hold's release") { harness.clock.earliestWake == release }
        harness.clock.advance(to: release)
        try await harness.eventually("the unanswered ticket breaches") { harness.events(SLABreached.type).count == 1 }
        instance.cancel()
        await instance.value
        expectMet(answered, breached: unanswered, at: deadline, in: harness)
    }

    /// tickets.inbound grown while the sla-timer runs (to run more intake instances): the
    /// partitions are counted again when a deadline needs intake and the count is a minute old,
    /// so a reply intake holds in a new partition is waited for too. Counted only at start, as
    /// before, both tickets breach.
    @Test func aDeadlineWaitsForPartitionsAddedUpstream() async throws {
        let (harness, answered, unanswered, instance) = try await twoCriticalClocks(upstream: SLATimerPartition.upstream)

        harness.broker.addPartitions(to: Topics.inbound, total: 2)
        try await harness.publish([OutgoingRecord(topic: Topics.inbound, key: "CRM-answered", value: Array("reply".utf8), partition: 1)])
        let intake = try await IntakeStandIn(harness.broker)
        try await intake.take(1)
        let deadline = Self.opening.addingTimeInterval(3600)
        harness.clock.advance(to: deadline)
        try await expectHeld(at: deadline, in: harness, "nothing fires while intake holds a record in the added partition")

        try await intake.handleAndCommit(published: [answered.agentReply(at: Self.opening.addingTimeInterval(600))])
        harness.clock.advance(to: deadline.addingTimeInterval(0.01))
        try await harness.eventually("the reply meets its clock") { harness.events(SLAMet.type).count == 1 }
        // Past the late-input hold's release (see aDeadlineWaitsForInputStillUpstream).
        harness.clock.advance(to: deadline.addingTimeInterval(60))
        try await harness.eventually("the unanswered ticket breaches") { harness.events(SLABreached.type).count == 1 }
        instance.cancel()
        await instance.value
        expectMet(answered, breached: unanswered, at: deadline, in: harness)
    }

    /// One partition, and the clocks of two critical tickets opened at the opening started by a
    /// running instance: one to be answered, one not.
    private func twoCriticalClocks(upstream: Upstream?) async throws
        -> (SLATimerHarness, answered: TicketInputs, unanswered: TicketInputs, instance: Task<Void, Never>) {
        let harness = SLATimerHarness(start: Self.opening, partitions: 1, upstream: upstream)
        let answered = TicketInputs("CRM-answered")
        let unanswered = TicketInputs("CRM-unanswered")
        try await harness.publish([answered, unanswered].map { $0.classified(.critical, openedAt: Self.opening) })
        let instance = try harness.startInstance()
        try await harness.eventually("both clocks started") { harness.events(SLAStarted.type).count == 2 }
        return (harness, answered, unanswered, instance)
    }

    /// The clock stands at `deadline`: the loop asks how far intake has got, finds it behind, and
    /// is to ask again after the poll interval, with nothing fired but the two `sla.started`.
    private func expectHeld(at deadline: Date, in harness: SLATimerHarness, _ comment: Comment) async throws {
        try await harness.eventually("the loop holds its timers, or fires them") {
            harness.clock.earliestWake == deadline.addingTimeInterval(0.01) || harness.events().count > 2
        }
        #expect(harness.events().count == 2, comment)
    }

    /// Exactly `answered` met its clock, and exactly `unanswered` breached, dated by its deadline.
    private func expectMet(_ answered: TicketInputs, breached unanswered: TicketInputs, at deadline: Date, in harness: SLATimerHarness) {
        #expect(harness.events(SLAMet.type).map(\.envelope.ticketId) == [answered.ticketId])
        let breaches = harness.events(SLABreached.type)
        #expect(breaches.map(\.envelope.ticketId) == [unanswered.ticketId])
        #expect(breaches.first?.envelope.at == deadline, "dated by its deadline")
    }

    @Test func aDeadlineStopsWaitingForAnUpstreamThatStaysBehind() async throws {
        let harness = SLATimerHarness(
            start: Self.opening, partitions: 1,
            upstream: Upstream(topic: Topics.inbound, group: ConsumerGroups.intake, maxWait: .seconds(60)))
        let ticket = TicketInputs("CRM-stuck")
        try await harness.publish([ticket.classified(.critical, openedAt: Self.opening)])
        let instance = try harness.startInstance()
        try await harness.eventually("the clock started") { harness.events(SLAStarted.type).count == 1 }
        // A record intake never commits: it is down for good, or its group was renamed.
        try await harness.publish([OutgoingRecord(topic: Topics.inbound, key: "other", value: Array("x".utf8))])
        let deadline = Self.opening.addingTimeInterval(3600)
        harness.clock.advance(to: deadline)
        try await harness.eventually("the loop holds its timer") { harness.clock.earliestWake == deadline.addingTimeInterval(0.01) }
        harness.clock.advance(to: deadline.addingTimeInterval(59.99))
        try await harness.eventually("the loop asks again") { harness.clock.earliestWake == deadline.addingTimeInterval(60) }
        #expect(harness.events(SLABreached.type).isEmpty, "not before the longest wait")
        harness.clock.advance(to: deadline.addingTimeInterval(60))
        try await harness.eventually("the breach fires") { harness.events(SLABreached.type).count == 1 }
        instance.cancel()
        await instance.value
        #expect(harness.events(SLABreached.type).first?.envelope.at == deadline, "dated by its deadline")
    }

    /// Input waiting when a partition is assigned: restored clocks past their deadline wait for it.
    @Test func restoredClocksPastTheirDeadlineWaitForTheInputWaitingOnTheTopic() async throws {
        let harness = SLATimerHarness(start: Self.opening, partitions: 1)
        try await harness.publish(tickets.map { $0.classified(.critical, openedAt: Self.opening) })
        let first = try harness.startInstance()
        try await harness.eventually("every clock started") { harness.events(SLAStarted.type).count == 24 }
        first.cancel()
        await first.value
        // While no instance runs, half the tickets are answered in time, behind more activity
        // than the next instance reads in one batch, and the deadlines pass.
        let otherActivity = (0..<120).map { TicketInputs("OTHER-\($0)").agentReply(at: Self.opening.addingTimeInterval(300)) }
        try await harness.publish(otherActivity + tickets.prefix(12).map { $0.agentReply(at: Self.opening.addingTimeInterval(600)) })
        harness.clock.advance(to: Self.opening.addingTimeInterval(2 * 3600))
        let second = try harness.startInstance(name: "b")
        try await harness.eventually("every clock ended") {
            harness.events(SLAMet.type).count + harness.events(SLABreached.type).count == 24
        }
        second.cancel()
        await second.value
        #expect(Set(harness.events(SLAMet.type).map(\.envelope.ticketId)) == Set(tickets.prefix(12).map(\.ticketId)))
        #expect(Set(harness.events(SLABreached.type).map(\.envelope.ticketId)) == Set(tickets.suffix(12).map(\.ticketId)))
    }

    @Test func topicsWithDifferentPartitionCountsAreRefusedAtStart() async throws {
        let broker = InMemoryBroker(defaultPartitions: 6)
        broker.createTopic(Topics.classified, partitions: 6)
        broker.createTopic(Topics.activity, partitions: 4)
        let loop = StatefulProcessingLoop(
            service: "sla-timer", bus: broker, queries: try broker.makeQueries(),
            source: .init(group: "sla-timer", inputs: [Topics.classified, Topics.activity],
                          changelog: Topics.slaTimerChangelog, output: Topics.slaEvents),
            publisher: try broker.makePublisher(), settings: ProcessingSettings(), logger: Logger(label: "test"),
            makeState: { SLATimerPartition(partition: $0, policy: .standard, metrics: SLATimerMetrics()) })
        let error = await #expect(throws: ConfigurationError.self) { try await loop.run() }
        let message = error?.description ?? ""
        #expect(message.contains("tickets.activity (4 partitions)") && message.contains("tickets.classified (6 partitions)"))
    }
}

/// Intake's consumer group, played by hand: takes records from tickets.inbound, publishes what
/// it likes, and commits only when told to, as intake does after its outputs are acknowledged.
private final class IntakeStandIn: Sendable {
    let subscription: any GroupSubscription
    let broker: InMemoryBroker
    private let taken = Mutex<[ConsumerRecord]>([])

    init(_ broker: InMemoryBroker) async throws {
        self.broker = broker
        subscription = try await broker.subscribe(group: ConsumerGroups.intake, topics: [Topics.inbound])
    }

    /// Takes `count` records (and the assignment before them) without committing.
    func take(_ count: Int) async throws {
        var records = [ConsumerRecord]()
        while records.count < count {
            for case .record(let record) in try await subscription.poll(max: count - records.count) { records.append(record) }
        }
        taken.withLock { $0 += records }
    }

    /// Publishes `published`, then commits every record taken so far.
    func handleAndCommit(published: [OutgoingRecord]) async throws {
        if !published.isEmpty { _ = try await broker.makePublisher().publish(published) }
        let offsets = taken.withLock { records in
            Dictionary(records.map { ($0.topicPartition, $0.offset + 1) }, uniquingKeysWith: max)
        }
        try await subscription.commit(offsets)
    }
}
