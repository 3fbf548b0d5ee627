import Foundation
import HelpdeskModel
import Hummingbird
import MessageBus
import ServiceRuntime

/// `GET /v1/sla/{ticketId}`: any instance answers, from the ticket's latest state in the
/// compacted changelog (the owner writes it after every change), not from its own memory.
public struct SLAStatusController: Sendable {
    let bus: any MessageBus
    let policy: SLAPolicy
    let tokens: NamedSecrets
    let now: @Sendable () -> Date

    /// `tokens` (`SLA_API_TOKENS`, `name=token` pairs) may read clocks; nothing else may.
    public init(bus: any MessageBus, policy: SLAPolicy, tokens: NamedSecrets, now: @escaping @Sendable () -> Date = Date.init) {
        self.bus = bus
        self.policy = policy
        self.tokens = tokens
        self.now = now
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/sla/:ticketId") { request, context in
            do {
                guard let presented = PresentedCredential.bearer(in: request) else {
                    throw HTTPRefusal(.unauthorized, "missing_token", "Send a token as \"Authorization: Bearer <token>\".")
                }
                guard tokens.name(for: presented) != nil else {
                    throw HTTPRefusal(.unauthorized, "invalid_token", "The token is not valid.")
                }
                let ticketId = try PathParameter.decoded("ticketId", in: context)
                guard let status = try await SLAStatusLookup.status(of: ticketId, bus: bus, policy: policy, now: now()) else {
                    return JSONReply.error(.notFound, "unknown_ticket", "No first-response clock is recorded for ticket \(ticketId).")
                }
                return try JSONReply.value(status)
            } catch let refusal as HTTPRefusal {
                return refusal.response
            } catch {
                return APIFailure.response(for: error, logger: context.logger)
            }
        }
    }
}

/// Finds a ticket's clock in `sla-timer.changelog` (its partition only).
public enum SLAStatusLookup {
    public static func status(of ticketId: String, bus: any MessageBus, policy: SLAPolicy, now: Date) async throws -> SLAClockStatus? {
        guard let record = try await bus.latestValue(forKey: ticketId, in: Topics.slaTimerChangelog), let value = record.value else {
            return nil
        }
        let clock = try FirstResponseClock(changelogValue: value)
        return SLAClockStatus(clock, now: now, policy: policy)
    }
}
