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
