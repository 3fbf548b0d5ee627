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

    public func attainment(_ period: ReportPeriod) async throws -> AttainmentReport {
        AttainmentReport(
            samples: try await repository.attainmentSamples(startedIn: period.instants(in: calendar)), period: period,
            calendar: calendar)
    }
}
