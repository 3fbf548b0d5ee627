import Foundation
import HelpdeskModel

/// The reports, computed from the store in business time as the sla-timer measured it, and
/// grouped by local dates in the policy's time zone. The API and `helpdesk report` share it.
public struct HistoryReports: Sendable {
    public let repository: any HistoryRepository
    public let calendar: BusinessCalendar

    public init(repository: any HistoryRepository, calendar: BusinessCalendar) {
        self.repository = repository
        self.calendar = calendar
    }

    /// A per-severity report over the closed clocks that started within `period`.
    public func report<R: PeriodReport>(_ type: R.Type, _ period: ReportPeriod) async throws -> R {
        R(samples: try await repository.attainmentSamples(startedIn: period.instants(in: calendar)), period: period,
          calendar: calendar)
    }

    public func attainment(_ period: ReportPeriod) async throws -> AttainmentReport { try await report(AttainmentReport.self, period) }

    /// The forecast against what happened, over the same closed clocks as the attainment.
    public func forecast(_ period: ReportPeriod) async throws -> ForecastReport { try await report(ForecastReport.self, period) }
}
