import ArgumentParser
import Foundation
import HelpdeskModel

/// `helpdesk bench forecast`: one forecast recomputation over a large open queue (the target:
/// 10,000 tickets and 50 agents within 50 ms), and the backtest's figures.
struct ForecastBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast", abstract: "Time a workload forecast over a large queue; run the forecast backtest.")

    @Option(help: "Open tickets in the queue.")
    var tickets: Int = 10_000

    @Option(help: "Agents on shift (one weekday shift, 08:00–18:00 America/Denver).")
    var agents: Int = 50

    @Option(help: "Timed recomputations.")
    var passes: Int = 20

    func run() throws {
        let now = ISO8601.parse("2026-03-02T16:00:00Z")!  // Monday 09:00 MST
        let schedule = try StaffingSchedule(
            timeZone: "America/Denver",
            shifts: [.init(days: [.mon, .tue, .wed, .thu, .fri], start: 8 * 3600, end: 18 * 3600, agents: agents)])
        let capacity = schedule.capacity(from: now)
        let queue = (0..<tickets).map { index in
            QueuedTicket(ticketId: TicketID(source: "bench", externalId: "F-\(index)"), severity: Severity.allCases[index % 3],
                         dueAt: now.addingTimeInterval(Double(index % 5_000) * 60))
        }
        var times = [Double]()
        var checksum = 0.0
        for _ in 0..<passes {
            let start = ContinuousClock.now
            let predictions = QueueForecast.predict(queue, capacity: capacity, service: .standard, now: now)
            times.append((ContinuousClock.now - start).timeInterval * 1000)
            checksum += predictions.last?.respondAt.timeIntervalSince1970 ?? 0
        }
        times.sort()
        print("forecast_tickets \(tickets)")
        print("forecast_agents \(agents)")
        print("forecast_ms_p50 \(String(format: "%.1f", times[times.count / 2]))")
        print("forecast_ms_max \(String(format: "%.1f", times.last ?? 0))")
        print("forecast_checksum \(Int(checksum) % 1000)")
        let rounds = try roundTimes(now: now, schedule: schedule)
        print("round_ms_p50 \(String(format: "%.1f", rounds[rounds.count / 2]))")
        print("round_ms_max \(String(format: "%.1f", rounds.last ?? 0))")
        let result = ForecastBacktest.run(ForecastBacktest.standardScenario())
        print("backtest_tickets \(result.tickets)")
        print("backtest_breached \(result.breached)")
        print("backtest_error_p50_min \(String(format: "%.0f", result.errorPercentile(0.5) / 60))")
        print("backtest_error_p90_min \(String(format: "%.0f", result.errorPercentile(0.9) / 60))")
        print("backtest_recall \(String(format: "%.2f", result.recall))")
        print("backtest_precision \(String(format: "%.2f", result.precision))")
    }

    /// The forecaster's whole round on the same queue, as `ForecastRunner` makes it: the desk's
    /// forecast, the ledger's step, and the outlook (each severity of the default policy and of
    /// two plans with policies of their own), in milliseconds, sorted.
    func roundTimes(now: Date, schedule: StaffingSchedule) throws -> [Double] {
        var policy = SLAPolicy.standard
        policy.staffing = schedule
        for plan in ["premium", "enterprise"] {
            var own = SLAPolicy.standard
            own.planName = plan
            policy.plans[plan] = own
        }
        var desk = ForecastDesk(policy: policy)
        for index in 0..<tickets {
            let id = "R-\(index)"
            var clock = FirstResponseClock(ticketId: TicketID(source: "bench", externalId: id), source: "bench", externalId: id)
            clock.requester = "customer-\(index)@example.com"
            _ = clock.apply(.classified(severity: Severity.allCases[index % 3], openedAt: now.addingTimeInterval(-Double(index % 3_600)),
                                        eventId: EventID(rawValue: "c-\(id)")), policy: policy)
            desk.apply(clock)
        }
        var ledger = ForecastLedger()
        var times = [Double]()
        for pass in 0..<passes {
            let at = now.addingTimeInterval(Double(pass) * 60)
            let start = ContinuousClock.now
            let (_, changed) = ledger.step(desk.forecast(now: at), waiting: desk.waiting, now: at)
            let outlook = ForecastOutlook(desk, now: at, atRisk: ledger.entries.values.count(where: \.atRisk))
            times.append((ContinuousClock.now - start).timeInterval * 1000)
            precondition(outlook.plans.count == 2 && (pass > 0 || changed.count == tickets))
        }
        return times.sorted()
    }
}
