import Foundation
import HelpdeskModel
import Hummingbird
import HummingbirdTesting
import IntakeService
import MessageBus
import ServiceRuntime
import Testing
import TestSupport

/// Intake built as `main` builds it, on the in-memory broker and a virtual clock: a ticket posted
/// to the API goes through the service's own processing loop to `tickets.received`, stamped by
/// the clock the service was given.
@Suite("intake through its build seam")
struct IntakeServiceSeamTests {
    @Test func aPostedTicketIsReceivedThroughTheServicesOwnLoop() async throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let clock = VirtualWallClock(start)
        let broker = InMemoryBroker(.init(defaultPartitions: 3, now: clock.now))
        let service = try buildIntake(ServiceDependencies(
            serviceName: IntakeProcessor.service, defaultHTTPPort: 0,
            environment: ["INTAKE_API_KEYS": "crm=\(crmKey)", "HTTP_PORT": "0"], bus: broker, clock: clock))
        let group = service.group
        let readiness = service.readiness
        let running = Task { try await group.run() }
        try await Application(router: service.router).test(.router) { client in
            try await eventually("intake joins its group", within: .seconds(60)) { readiness.failing().isEmpty }
            let (status, _) = try await post(client, "/v1/tickets", openBody)
            #expect(status == .accepted)
            try await eventually("the ticket is received") { !broker.records(in: Topics.received).isEmpty }
            let received = try #require(broker.records(in: Topics.received).first)
            let event = try WireJSON.decode(EventEnvelope.self, from: received.value!)
            #expect(event.ticketId == TicketID(source: "crm", externalId: "CRM-1042"))
            #expect(event.at == start, "received at the service's clock")
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// The service follows `forecast.changelog`: a new ticket's 202 carries the forecaster's
    /// latest outlook, and only while it is fresh.
    @Test func aNewTicketIsToldTheForecastersOutlook() async throws {
        let start = ISO8601.parse("2026-03-02T17:00:00Z")!
        let clock = VirtualWallClock(start)
        let broker = InMemoryBroker(.init(defaultPartitions: 3, now: clock.now))
        let late = ForecastOutlook.NewTicket(expectedAt: start.addingTimeInterval(6_000), dueAt: start.addingTimeInterval(3_600),
                                             targetSeconds: 3_600, text: "within 1 business hour; currently expected by 11:40 MST")
        let outlook = ForecastOutlook(at: start, waiting: 12, atRisk: 3, agentsOnShift: 2, serviceSeconds: [:],
                                      newTicket: ["critical": late])
        _ = try await broker.makePublisher().publish([OutgoingRecord(
            topic: Topics.forecastChangelog, key: ForecastOutlook.key, value: try WireJSON.encode(outlook))])
        let service = try buildIntake(ServiceDependencies(
            serviceName: IntakeProcessor.service, defaultHTTPPort: 0,
            environment: ["INTAKE_API_KEYS": "crm=\(crmKey)", "HTTP_PORT": "0", "INTAKE_OUTLOOK_MAX_AGE_SECONDS": "120"],
            bus: broker, clock: clock))
        let group = service.group
        let running = Task { try await group.run() }
        let critical = #"{"source":"crm","externalId":"CRM-7","organizationId":"acme","subject":"Down","reportedSeverity":"critical"}"#
        try await Application(router: service.router).test(.router) { client in
            try await eventually("the outlook is read", within: .seconds(60)) {
                (try? await post(client, "/v1/tickets", critical)).map { member($0.1, "firstResponse") != nil } ?? false
            }
            let (_, body) = try await post(client, "/v1/tickets", critical)
            let answer = try #require(member(body, "firstResponse"))
            guard case .array(let severities)? = member(answer, "severities") else { Issue.record("\(answer)"); return }
            #expect(severities.count == 1)
            #expect(member(severities[0], "text") == .string("within 1 business hour; currently expected by 11:40 MST"))
            #expect(member(severities[0], "expectedAt") == .string("2026-03-02T18:40:00Z"))
            clock.advance(to: start.addingTimeInterval(121))
            #expect(member(try await post(client, "/v1/tickets", critical).1, "firstResponse") == nil, "a stale outlook is not told")
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func everyBadSettingIsListedAtOnce() throws {
        #expect(throws: ConfigurationError.self) {
            _ = try buildIntake(ServiceDependencies(
                serviceName: IntakeProcessor.service, defaultHTTPPort: 0,
                environment: ["INTAKE_API_KEYS": "nonsense", "HTTP_PORT": "99999", "INTAKE_MAX_PAST_HOURS": "0"],
                bus: InMemoryBroker()))
        }
        do {
            _ = try buildIntake(ServiceDependencies(
                serviceName: IntakeProcessor.service, defaultHTTPPort: 0,
                environment: ["INTAKE_API_KEYS": "nonsense", "HTTP_PORT": "99999", "INTAKE_MAX_PAST_HOURS": "0"],
                bus: InMemoryBroker()))
        } catch let error as ConfigurationError {
            #expect(error.problems.count == 3, "\(error.problems)")
        }
    }
}
