import HelpdeskModel
import Logging
import MessageBus
import ServiceRuntime
import Synchronization

/// Which forecaster instance is active: every instance joins the group `forecaster` on
/// `forecast.leader`, a topic that holds no records; the one assigned its partition 0 leads,
/// the others stand by with the same view of the desk and take over on a rebalance (a crash
/// is noticed once the group's session times out).
public final class Leadership: RecordProcessor, Sendable {
    private let leading = Mutex(false)
    private let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public var isLeading: Bool { leading.withLock { $0 } }

    /// Records on `forecast.leader` (someone wrote there) mean nothing.
    public func process(_ record: ConsumerRecord) async throws -> [OutgoingRecord] { [] }

    public func partitionsAssigned(_ partitions: [TopicPartition]) async throws {
        guard partitions.contains(TopicPartition(Topics.forecastLeader, 0)) else { return }
        leading.withLock { $0 = true }
        logger.notice("active: this instance forecasts and publishes")
    }

    public func partitionsRevoked(_ partitions: [TopicPartition]) async {
        guard partitions.contains(TopicPartition(Topics.forecastLeader, 0)) else { return }
        leading.withLock { $0 = false }
        logger.notice("standing by: another instance forecasts")
    }
}
