import Foundation
import HelpdeskModel
import ServiceRuntime

/// What intake's answer to a new ticket says of its first response: the forecaster's latest
/// outlook (`~desk` in `forecast.changelog`) for the organization's plan, for the severity the
/// reporter gave, or for every severity while the classifier has yet to decide.
public struct FirstResponseOutlook: Sendable {
    /// One severity's promise and expectation.
    public struct Expectation: Codable, Sendable, Equatable {
        public var severity: Severity
        public var targetSeconds: Int
        public var dueAt: Date
        public var expectedAt: Date
        public var onTarget: Bool
        public var text: String
    }

    /// The `firstResponse` member of the 202 answer.
    public struct Answer: Codable, Sendable, Equatable {
        public var forecastAt: Date
        public var severities: [Expectation]
    }

    /// The outlook as last read; nil before the forecaster wrote one.
    let latest: @Sendable () -> ForecastOutlook?
    /// An older outlook is not told: the forecaster has stopped, and the queue has moved on.
    let maxAge: Duration

    public init(maxAge: Duration, latest: @escaping @Sendable () -> ForecastOutlook?) {
        self.maxAge = maxAge
        self.latest = latest
    }

    /// The outlook kept by `view`, a view of `forecast.changelog` (only `~desk` is needed).
    public init(view: ChangelogView, maxAge: Duration) {
        self.init(maxAge: maxAge) {
            view.current(ForecastOutlook.self, forKey: ForecastOutlook.key)
        }
    }

    /// How long before the forecast a ticket may have opened and still be told it: the outlook
    /// is for a ticket opened when the forecast ran.
    public static let openedBeforeForecast: TimeInterval = 60

    /// The answer for a ticket of `plan` reported as `reported`, opened at `openedAt` (nil: now),
    /// at `now`; nil when there is no outlook younger than `maxAge`, or the ticket opened well
    /// before it (a late push: its clock is older than the outlook's).
    public func answer(plan: String?, reported: Severity?, openedAt: Date? = nil, now: Date) -> Answer? {
        guard let outlook = latest(), now.timeIntervalSince(outlook.at) <= maxAge.timeInterval,
              (openedAt ?? now) >= outlook.at.addingTimeInterval(-Self.openedBeforeForecast)
        else { return nil }
        let tickets = outlook.newTickets(plan: plan)
        let severities = reported.map { [$0] } ?? Severity.allCases
        let expectations = severities.compactMap { severity -> Expectation? in
            guard let ticket = tickets[severity.name] else { return nil }
            return Expectation(severity: severity, targetSeconds: ticket.targetSeconds, dueAt: ticket.dueAt,
                               expectedAt: ticket.expectedAt, onTarget: ticket.onTarget, text: ticket.text)
        }
        return expectations.isEmpty ? nil : Answer(forecastAt: outlook.at, severities: expectations)
    }
}
