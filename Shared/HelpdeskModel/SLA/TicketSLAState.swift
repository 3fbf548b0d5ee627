import Foundation

/// Everything the sla-timer keeps for one ticket, as it goes to `sla-timer.changelog`: the
/// first-response clock and, where the ticket's plan sets them, the further metrics (a
/// `metrics` member beside the clock's own, so a state without them reads as before).
public struct TicketSLAState: Sendable, Equatable {
    public var firstResponse: FirstResponseClock
    public var metrics: TicketMetrics?

    public init(firstResponse: FirstResponseClock, metrics: TicketMetrics? = nil) {
        self.firstResponse = firstResponse
        self.metrics = metrics
    }

    public var changelogValue: [UInt8] {
        var members = firstResponse.changelogMembers
        if let metrics { members["metrics"] = .string(metrics.changelogText) }
        return JSONValue.object(members).serialized()
    }

    public init(changelogValue bytes: [UInt8]) throws(ChangelogValueError) {
        let members = try FirstResponseClock.changelogMembers(bytes)
        firstResponse = try FirstResponseClock(changelogMembers: members)
        switch members["metrics"] {
        case nil, .null?: metrics = nil
        case .string(let text)?: metrics = try TicketMetrics(changelogText: text)
        default: throw ChangelogValueError("metrics is not a string")
        }
    }
}
