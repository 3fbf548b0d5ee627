import EscalationService
import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import Synchronization
import Testing
import TestSupport

/// escalation instances on the in-memory broker.
final class EscalationHarness: StatefulServiceHarness, @unchecked Sendable {
    let metrics = EscalationMetrics()

    init(partitions: Int = 6) {
        let metrics = self.metrics
        super.init(
            service: EscalationPartition.service,
            source: .init(group: "escalation",
                          inputs: [Topics.classified, Topics.activity, Topics.slaEvents, Topics.escalationCommands],
                          changelog: Topics.escalationChangelog, output: Topics.escalationEvents),
            otherTopics: [Topics.notifications], start: monday, partitions: partitions,
            makeState: { EscalationPartition(partition: $0, policy: .standard, metrics: metrics) })
    }

    func latestTickets() -> [TicketEscalation] {
        latestChangelogValues().compactMap { try? WireJSON.decode(TicketEscalation.self, from: $0) }
    }
}

@Suite("escalation service", .serialized, .timeLimit(.minutes(2)))
struct EscalationLoopTests {
    let tickets = (0..<24).map { TicketInputs("CRM-\($0)") }

    /// The whole life of every ticket's escalation, in stages that each wait for the last:
    /// classified and requested by CC, evaluated, escalated, three conditions, de-escalated.
    func stages() -> [(inputs: [OutgoingRecord], type: String, count: Int)] {
        [
            (tickets.flatMap { [$0.classified(.critical, openedAt: monday), $0.customerMessage(at: monday, cc: ["escalations@support.example"])] },
             EscalationRequested.type, 24),
            (tickets.map { $0.command(.evaluate(engineer: eve.name, by: max), id: "\($0.externalId)-evaluate") }, EscalationEvaluating.type, 24),
            (tickets.map { $0.command(.escalate(by: eve), id: "\($0.externalId)-escalate") }, EscalationEscalated.type, 24),
            (tickets.flatMap { ticket in
                DeEscalationCondition.allCases.map {
                    ticket.command(.recordCondition($0, by: eve, note: nil), id: "\(ticket.externalId)-\($0.rawValue)")
                }
            }, EscalationConditionRecorded.type, 72),
            (tickets.map { $0.command(.deEscalate(by: max), id: "\($0.externalId)-deEscalate") }, EscalationDeEscalated.type, 24),
        ]
    }

    /// `partially`: the process dies half-way through the publish (see `CrashingPublisher`).
    @Test("a crash between publishing and committing, at any point, loses nothing and repeats nothing",
          arguments: [0, 1, 2, 3, 4, 5, 7, 9], [false, true])
    func crashBetweenPublishAndCommit(crashAt: Int, partially: Bool) async throws {
        let harness = EscalationHarness()
        let publisher: any RecordPublisher = crashAt == 0
            ? try harness.broker.makePublisher()
            : CrashingPublisher(try harness.broker.makePublisher(), crashAt: crashAt, partially: partially)
        let first = try harness.startInstance(publisher: publisher)
        let crashed = Mutex(false)
        let watcher = Task {
            await first.value
            crashed.withLock { $0 = true }
        }
        var survivor: Task<Void, Never>?
        for stage in stages() {
            try await harness.publish(stage.inputs)
            let done: @Sendable () -> Bool = { harness.events(stage.type).count >= stage.count }
            if survivor == nil {
                try await harness.eventually("\(stage.type) or a crash") { done() || crashed.withLock { $0 } }
                if crashed.withLock({ $0 }) { survivor = try harness.startInstance(name: "survivor") }
            }
            try await harness.eventually(stage.type) { done() }
        }
        // A probe behind everything shows the last owner has handled all its input.
        let probe = TicketInputs("probe")
        try await harness.publish([probe.classified(.minor, openedAt: monday)])
        let probeHandled: @Sendable () -> Bool = { harness.latestTickets().contains { $0.externalId == "probe" } }
        if survivor == nil {
            try await harness.eventually("the probe handled or a crash") { probeHandled() || crashed.withLock { $0 } }
            if crashed.withLock({ $0 }) { survivor = try harness.startInstance(name: "survivor") }
        }
        try await harness.eventually("the probe handled") { probeHandled() }
        #expect(crashAt == 0 || survivor != nil, "the first instance crashed at publish \(crashAt)")
        first.cancel()
        survivor?.cancel()
        await survivor?.value
        await watcher.value

        let events = harness.events()
        #expect(events.count == 24 * 7, "\(events.count) events")
        #expect(Set(events.map(\.envelope.eventId)).count == events.count, "no event id twice")
        #expect(harness.events(EscalationCommandRefused.type).isEmpty)
        #expect(harness.events(EscalationDeEscalationRefused.type).isEmpty)
        let latest = harness.latestTickets().filter { $0.externalId != "probe" }
        #expect(latest.count == 24)
        #expect(latest.allSatisfy { $0.escalation.state == .deEscalated && $0.escalation.history.count == 7 })
        // requested (support lead and management), evaluating (engineer), escalated and
        // de-escalated (management).
        let notifications = harness.broker.records(in: Topics.notifications)
        #expect(Set(notifications.map(\.envelope.eventId)).count == 24 * 5)
        #expect(harness.metrics.active(.escalated) == 0 || crashAt != 0)
    }

    @Test func aSecondInstanceTakesPartitionsWithTheirStateAndAppliesCommandsInOrder() async throws {
        let harness = EscalationHarness()
        let all = stages()
        let first = try harness.startInstance()
        try await harness.publish(all[0].inputs)
        try await harness.eventually("requested") { harness.events(EscalationRequested.type).count == 24 }
        let second = try harness.startInstance(name: "b")
        // The later stages are published at once: each ticket's commands are in one partition, in order.
        try await harness.publish(all.dropFirst().flatMap(\.inputs))
        try await harness.eventually("de-escalated") { harness.events(EscalationDeEscalated.type).count == 24 }
        first.cancel()
        second.cancel()
        _ = await (first.value, second.value)
        #expect(harness.events().count == 24 * 7)
        #expect(harness.events(EscalationCommandRefused.type).isEmpty)
    }
}
