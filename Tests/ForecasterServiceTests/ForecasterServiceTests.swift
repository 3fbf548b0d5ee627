import ForecasterService
import Foundation
import HelpdeskModel
import Logging
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

/// The forecaster built through its seam on the in-memory broker and a virtual clock: two
/// instances, one active; the standby takes over without repeating or forgetting.
@Suite("forecaster", .serialized, .timeLimit(.minutes(2)))
struct ForecasterServiceTests {
    /// Monday 2 March 2026, 09:00 MST.
    let monday = ISO8601.parse("2026-03-02T16:00:00Z")!

    func ticket(_ id: String, _ severity: Severity, openedAt: Date) -> FirstResponseClock {
        var clock = FirstResponseClock(ticketId: TicketID(source: "crm", externalId: id), source: "crm", externalId: id)
        clock.requester = "\(id.lowercased())@customer.example"
        _ = clock.apply(.classified(severity: severity, openedAt: openedAt, eventId: EventID(rawValue: "c-\(id)")), policy: .standard)
        return clock
    }

    func changelog(_ clock: FirstResponseClock) -> OutgoingRecord {
        OutgoingRecord(topic: Topics.slaTimerChangelog, key: clock.ticketId.rawValue, value: TicketSLAState(firstResponse: clock).changelogValue)
    }

    func instance(_ broker: InMemoryBroker, _ clock: VirtualWallClock) throws -> (BuiltService, Task<Void, any Error>, Leadership) {
        let leadership = Leadership(logger: Logger(label: "forecaster"))
        let service = try buildForecaster(ServiceDependencies(
            serviceName: ForecastRecords.service, defaultHTTPPort: 0, environment: ["HTTP_PORT": "0", "FORECAST_INTERVAL_MS": "20"],
            bus: broker, clock: clock), leadership: leadership)
        let group = service.group
        return (service, Task { try await group.run() }, leadership)
    }

    func events(_ broker: InMemoryBroker, _ type: String) -> [EventEnvelope] {
        broker.records(in: Topics.slaForecast).compactMap { try? WireJSON.decode(EventEnvelope.self, from: $0.value ?? []) }
            .filter { $0.type == type }
    }

    @Test func oneInstanceIsActiveAndItsSuccessorNeitherRepeatsNorForgets() async throws {
        let clock = VirtualWallClock(monday)
        let broker = InMemoryBroker(.init(defaultPartitions: 3, now: clock.now))
        for topic in Topics.all { broker.createTopic(topic, partitions: 3) }
        // Sixteen critical tickets opened at 09:00 for four agents: the tail of the queue will breach.
        let clocks = (0..<16).map { ticket("CRM-\($0)", .critical, openedAt: monday) }
        _ = try await broker.makePublisher().publish(clocks.map(changelog))

        let (first, firstRun, firstRole) = try instance(broker, clock)
        let (second, secondRun, secondRole) = try instance(broker, clock)
        try await eventually("every ticket's expectation") { events(broker, SLAExpected.type).count == 16 }
        try await eventually("the at-risk tickets flagged") { !events(broker, SLAAtRisk.type).isEmpty }
        try await Task.sleep(for: .milliseconds(300))
        let atRisk = events(broker, SLAAtRisk.type)
        #expect(Set(atRisk.map(\.eventId)).count == atRisk.count && events(broker, SLAExpected.type).count == 16,
                "two instances, one voice")
        let flagged = try broker.records(in: Topics.slaForecast).filter { $0.eventType == SLAAtRisk.type }
            .map { try WireJSON.decode(Event<SLAAtRisk>.self, from: $0.value ?? []) }
        #expect(flagged.allSatisfy { $0.payload.episode == 1 && $0.payload.forecast.expectedAt > $0.payload.forecast.dueAt || $0.payload.forecast.latest > $0.payload.forecast.dueAt })
        // Critical: the support lead and management hear of each; the customer whose answer is
        // expected after the target is told when to expect it.
        let notices = try broker.records(in: Topics.notifications).map { try WireJSON.decode(Event<HelpdeskModel.Notification>.self, from: $0.value ?? []) }
        let riskNotices = notices.filter { $0.payload.kind == .slaAtRisk }
        #expect(riskNotices.filter { $0.payload.audience == .supportLead }.count == atRisk.count)
        #expect(riskNotices.filter { $0.payload.audience == .management }.count == atRisk.count)
        #expect(riskNotices.count == 2 * atRisk.count)
        let told = try broker.records(in: Topics.slaForecast).filter { $0.eventType == SLAExpected.type }
            .map { try WireJSON.decode(Event<SLAExpected>.self, from: $0.value ?? []) }.filter(\.payload.customerTold)
        #expect(!told.isEmpty)
        #expect(Set(notices.filter { $0.payload.kind == .responseExpected }.compactMap(\.payload.recipient))
            == Set(told.map { "\($0.externalId.lowercased())@customer.example" }))
        #expect(told.allSatisfy { $0.payload.text.hasPrefix("within 1 business hour; currently expected by ") })

        // Whichever instance is active stops; the other restores the ledger and carries on.
        try await eventually("one instance active") { [firstRole, secondRole].count(where: \.isLeading) == 1 }
        let active = firstRole.isLeading ? 0 : 1
        await [first, second][active].group.triggerGracefulShutdown()
        try await [firstRun, secondRun][active].value
        let survivor = [first, second][1 - active]
        // Ten agents join: every at-risk state clears, once, in its first episode.
        let surge = (0..<10).map { number in
            OutgoingRecord(event: Event(emittedBy: "intake", causedBy: "surge-\(number)", ticketId: TicketID(source: "wfm", externalId: "s-\(number)"),
                                        source: "wfm", externalId: "s-\(number)", at: monday,
                                        payload: AgentShiftStarted(agent: "agent-\(number)", team: nil, from: monday, until: nil)),
                           topic: Topics.staffing, key: "agent-\(number)", producer: "intake")
        }
        _ = try await broker.makePublisher().publish(surge)
        try await eventually("every at-risk state cleared") { events(broker, SLAAtRiskCleared.type).count == atRisk.count }
        try await Task.sleep(for: .milliseconds(300))
        #expect(events(broker, SLAAtRiskCleared.type).count == atRisk.count)
        #expect(events(broker, SLAExpected.type).count == 16, "the successor told nobody twice")
        #expect(events(broker, SLAAtRisk.type).count == atRisk.count)
        #expect(survivor.readiness.failing().isEmpty)

        // An answered ticket leaves the ledger: a tombstone on forecast.changelog.
        var answered = clocks[0]
        _ = answered.apply(.agentReplied(at: monday.addingTimeInterval(600)), policy: .standard)
        clock.advance(to: monday.addingTimeInterval(600))
        _ = try await broker.makePublisher().publish(changelog(answered))
        let answeredKey = answered.ticketId.rawValue
        try await eventually("the answered ticket's tombstone") {
            broker.records(in: Topics.forecastChangelog).contains { $0.keyString == answeredKey && $0.value == nil }
        }
        let outlook = try #require(broker.records(in: Topics.forecastChangelog).last { $0.keyString == ForecastOutlook.key })
        let desk = try WireJSON.decode(ForecastOutlook.self, from: outlook.value ?? [])
        #expect(desk.waiting == 15 && desk.agentsOnShift == 14 && desk.atRisk == 0)
        await survivor.group.triggerGracefulShutdown()
        try await [firstRun, secondRun][1 - active].value
    }
}
