import Foundation
import HelpdeskModel
import Logging
import MessageBus
import Metrics
import ServiceLifecycle
import ServiceRuntime

/// The active instance's work: whenever the desk changed (a ticket opened, was answered,
/// changed severity; a shift change), and every `refresh` anyway (time passing moves agents
/// on and off shift), forecast the whole queue, publish what the ledger says is new, then the
/// ledger's changes. A standby does nothing but follow the desk; on taking over it restores the
/// ledger from `forecast.changelog` first, so it neither repeats nor forgets an at-risk state.
public final class ForecastRunner: Service, Sendable {
    public struct Settings: Sendable {
        /// How often the active instance looks for changes.
        public var interval: Duration = .seconds(1)
        /// The forecast runs at least this often, changes or not.
        public var refresh: Duration = .seconds(60)
        public init() {}
    }

    let follower: DeskFollower
    let leadership: Leadership
    let bus: any MessageBus
    let queries: any BrokerQueries
    let publisher: any RecordPublisher
    let policy: SLAPolicy
    let settings: Settings
    let now: @Sendable () -> Date
    let logger: Logger
    let metrics = ForecasterMetrics()

    public init(
        follower: DeskFollower, leadership: Leadership, bus: any MessageBus, queries: any BrokerQueries,
        publisher: any RecordPublisher, policy: SLAPolicy, settings: Settings, now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.follower = follower
        self.leadership = leadership
        self.bus = bus
        self.queries = queries
        self.publisher = publisher
        self.policy = policy
        self.settings = settings
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        var ledger: ForecastLedger?
        var lastVersion = -1
        var lastRun: Date?
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.settings.interval) }
            } catch is CancellationError { break }
            metrics.active(leadership.isLeading)
            guard leadership.isLeading else {
                ledger = nil
                continue
            }
            guard follower.snapshot.isCaughtUp else { continue }
            do {
                if ledger == nil {
                    ledger = try await restoreLedger()
                    lastVersion = -1
                }
                let now = now()
                let due = lastRun.map { now.timeIntervalSince($0) >= settings.refresh.timeInterval } ?? true
                guard due || follower.snapshot.version != lastVersion, var next = ledger else { continue }
                follower.learn(now: now)
                follower.forgetShifts(before: now)
                let (desk, version, _) = follower.snapshot
                let started = ContinuousClock.now
                let predictions = desk.forecast(now: now)
                let (outputs, changed) = next.step(predictions, waiting: desk.waiting, now: now)
                let outlook = ForecastOutlook(desk, now: now, atRisk: next.entries.values.count(where: \.atRisk))
                metrics.forecast(took: ContinuousClock.now - started, outlook: outlook)
                // Events (and their notifications) first: once they are stored the ledger may say so.
                guard leadership.isLeading else { continue }
                _ = try await publisher.publish(ForecastRecords.events(outputs, policy: policy, now: now))
                _ = try await publisher.publish(ForecastRecords.changelog(changed) + [ForecastRecords.outlook(outlook)])
                metrics.published(outputs)
                ledger = next
                lastVersion = version
                lastRun = now
            } catch is CancellationError {
                break
            } catch {
                // The ledger is left as it was: the next round makes the same records again.
                logger.warning("forecast round failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Everything `forecast.changelog` holds.
    private func restoreLedger() async throws -> ForecastLedger {
        var ledger = ForecastLedger()
        let count = try await queries.partitionCount(of: Topics.forecastChangelog)
        for partition in 0..<Int32(count) {
            _ = try await bus.readPartition(TopicPartition(Topics.forecastChangelog, partition), from: 0) { records in
                for record in records {
                    guard let key = record.keyString, key != ForecastOutlook.key else { continue }
                    ledger.restore(key: key, value: record.value)
                }
            }
        }
        logger.notice("ledger restored", metadata: ["tickets": "\(ledger.entries.count)",
                                                    "atRisk": "\(ledger.entries.values.count(where: \.atRisk))"])
        return ledger
    }
}

/// `helpdesk_forecast_*` (docs/operations.md#forecaster).
struct ForecasterMetrics: Sendable {
    private let activeGauge = Gauge(label: "helpdesk_forecast_active")
    private let waitingGauge = Gauge(label: "helpdesk_forecast_waiting_tickets")
    private let atRiskGauge = Gauge(label: "helpdesk_forecast_at_risk_tickets")
    private let agentsGauge = Gauge(label: "helpdesk_forecast_agents_on_shift")
    private let duration = Timer(label: "helpdesk_forecast_duration_seconds", preferredDisplayUnit: .seconds)
    private let serviceGauges = Dictionary(uniqueKeysWithValues: Severity.allCases.map {
        ($0, Gauge(label: "helpdesk_forecast_service_seconds", dimensions: [("severity", $0.name)]))
    })
    private let events = Dictionary(uniqueKeysWithValues: [SLAExpected.type, SLAAtRisk.type, SLAAtRiskCleared.type].map {
        ($0, Counter(label: "helpdesk_forecast_events_total", dimensions: [("type", $0)]))
    })

    func active(_ leading: Bool) { activeGauge.record(leading ? 1 : 0) }

    func forecast(took: Duration, outlook: ForecastOutlook) {
        duration.recordNanoseconds(took.timeInterval.saturatingNanoseconds)
        waitingGauge.record(outlook.waiting)
        atRiskGauge.record(outlook.atRisk)
        agentsGauge.record(outlook.agentsOnShift)
        for severity in Severity.allCases { serviceGauges[severity]?.record(outlook.serviceSeconds[severity.name] ?? 0) }
    }

    func published(_ outputs: [ForecastLedger.Output]) {
        for output in outputs {
            switch output {
            case .expected: events[SLAExpected.type]?.increment()
            case .atRisk: events[SLAAtRisk.type]?.increment()
            case .cleared: events[SLAAtRiskCleared.type]?.increment()
            }
        }
    }
}
