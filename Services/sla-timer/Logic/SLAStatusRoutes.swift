import Foundation
import HelpdeskModel
import Hummingbird
import MessageBus
import ServiceRuntime

/// Where status reads find a ticket's first-response clock.
public protocol SLAClockRepository: Sendable {
    /// The clock's latest changelog value, nil when there is none.
    func changelogValue(of ticketId: String) async throws -> [UInt8]?
}

/// The ticket's latest state in the compacted `sla-timer.changelog` (the owner writes it after
/// every change), kept by the instance's `ChangelogView`: any instance answers, whoever owns it.
public struct ChangelogClocks: SLAClockRepository {
    let view: ChangelogView

    public init(view: ChangelogView) { self.view = view }

    public func changelogValue(of ticketId: String) async throws -> [UInt8]? { try await view.latest(forKey: ticketId) }
}

/// `GET /v1/sla/{ticketId}`: any instance answers, from the repository, not from its own memory.
public struct SLAStatusController: Sendable {
    let clocks: any SLAClockRepository
    let policy: SLAPolicy
    let tokens: NamedSecrets
    let now: @Sendable () -> Date

    /// `tokens` (`SLA_API_TOKENS`, `name=token` pairs) may read clocks; nothing else may.
    public init(clocks: any SLAClockRepository, policy: SLAPolicy, tokens: NamedSecrets,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.clocks = clocks
        self.policy = policy
        self.tokens = tokens
        self.now = now
    }

    public func addRoutes(to router: Router<ServiceRequestContext>) {
        let tokens = self.tokens
        MethodRefusal.refuseOthers(on: router, "v1/sla/:ticketId", allowing: [.get])
        OpenAPIRoute.add(PackageResources.openapi_yaml, to: router)
        router.group("v1/sla")
            .add(middleware: SecretAuthenticator.bearerTokens { tokens.name(for: $0).map { Caller(name: $0) } })
            .get(":ticketId") { _, context in
                let ticketId = try PathParameter.decoded("ticketId", in: context)
                guard let status = try SLAStatusLookup.status(
                    changelogValue: try await clocks.changelogValue(of: ticketId), policy: policy, now: now())
                else {
                    throw HTTPRefusal(.notFound, "unknown_ticket", "No first-response clock is recorded for ticket \(ticketId).")
                }
                return try JSONReply.value(status)
            }
    }
}

/// A ticket's status from its clock's changelog value.
public enum SLAStatusLookup {
    public static func status(changelogValue value: [UInt8]?, policy: SLAPolicy, now: Date) throws -> SLAClockStatus? {
        guard let value else { return nil }
        let state = try TicketSLAState(changelogValue: value)
        return SLAClockStatus(state.firstResponse, metrics: state.metrics, now: now, policy: policy)
    }

    /// For a one-off question (the CLI): reads the ticket's changelog partition once.
    public static func status(of ticketId: String, bus: any MessageBus, policy: SLAPolicy, now: Date) async throws -> SLAClockStatus? {
        try status(changelogValue: try await bus.latestValue(forKey: ticketId, in: Topics.slaTimerChangelog)?.value,
                   policy: policy, now: now)
    }
}
