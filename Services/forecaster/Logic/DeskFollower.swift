import Foundation
import HelpdeskModel
import Logging
import MessageBus
import ServiceLifecycle
import Synchronization

/// The desk as every forecaster instance sees it, active or standing by: the sla-timer's
/// changelog (every ticket's first-response clock: the queue, and the answers service times are
/// learned from) and `staffing.events` (live shift changes), each followed from its start.
public final class DeskFollower: Service, Sendable {
    private let bus: any MessageBus
    private let queries: any BrokerQueries
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var desk: ForecastDesk
        /// Bumped on every change the forecast should see.
        var version = 0
        /// Per topic, whether it has been read up to where it ended when the follower began.
        var caughtUp: Set<String> = []
        var undecodable = 0
    }

    public static let topics = [Topics.slaTimerChangelog, Topics.staffing]

    public init(policy: SLAPolicy, bus: any MessageBus, queries: any BrokerQueries, logger: Logger) {
        self.bus = bus
        self.queries = queries
        self.logger = logger
        state = Mutex(State(desk: ForecastDesk(policy: policy)))
    }

    /// The desk now and its version; `isCaughtUp` once both topics have been read to where they
    /// ended at the start (before that, the queue would be missing tickets).
    public var snapshot: (desk: ForecastDesk, version: Int, isCaughtUp: Bool) {
        state.withLock { ($0.desk, $0.version, $0.caughtUp.count == Self.topics.count) }
    }

    /// Learns from the answers seen so far (done here, so the active instance's forecast and
    /// the desk share one estimator).
    public func learn(now: Date) { state.withLock { $0.desk.learn(now: now) } }

    public func forgetShifts(before now: Date) { state.withLock { $0.desk.forgetShifts(before: now) } }

    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for topic in Self.topics { group.addTask { try await self.follow(topic) } }
        }
    }

    private func follow(_ topic: String) async throws {
        let tail = try await bus.tail(topic)
        let count = try await queries.partitionCount(of: topic)
        let ends = try await queries.endOffsets(of: (0..<Int32(count)).map { TopicPartition(topic, $0) })
        var reached = [TopicPartition: Int64]()
        logger.info("following \(topic)", metadata: ["partitions": "\(count)"])
        /// Once every partition has been read to where it ended at the start (an empty topic at once).
        func noteCaughtUp(_ state: inout State) {
            if !state.caughtUp.contains(topic), ends.allSatisfy({ (reached[$0.key] ?? 0) >= $0.value }) {
                state.caughtUp.insert(topic)
                state.version += 1
            }
        }
        state.withLock { noteCaughtUp(&$0) }
        do {
            while !Task.isShuttingDownGracefully {
                let batch = try await cancelWhenGracefulShutdown { try await tail.next(max: 4096) }
                state.withLock { state in
                    for record in batch.records { apply(record, to: &state) }
                    for (partition, offset) in batch.reached { reached[partition] = max(reached[partition] ?? 0, offset) }
                    noteCaughtUp(&state)
                }
            }
        } catch is CancellationError {}
        await tail.close()
    }

    private func apply(_ record: ConsumerRecord, to state: inout State) {
        switch record.topic {
        case Topics.slaTimerChangelog:
            guard let value = record.value else { return }
            do {
                if state.desk.apply(try TicketSLAState(changelogValue: value).firstResponse) { state.version += 1 }
            } catch {
                state.undecodable += 1
                if state.undecodable <= 10 {
                    logger.warning("a changelog record the forecast cannot read", metadata: [
                        "partition": "\(record.partition)", "offset": "\(record.offset)", "error": "\(error)"])
                }
            }
        default:
            // Intake validated these; anything else on the topic is not a shift change.
            guard let value = record.value, let envelope = try? WireJSON.decode(EventEnvelope.self, from: value) else { return }
            let change: (started: Bool, from: Date, until: Date?)?
            switch envelope.type {
            case AgentShiftStarted.type:
                change = (try? WireJSON.decode(Event<AgentShiftStarted>.self, from: value)).map { (true, $0.payload.from, $0.payload.until) }
            case AgentShiftEnded.type:
                change = (try? WireJSON.decode(Event<AgentShiftEnded>.self, from: value)).map { (false, $0.payload.from, $0.payload.until) }
            default: change = nil
            }
            if let change, state.desk.apply(shift: envelope.eventId, started: change.started, from: change.from, until: change.until) {
                state.version += 1
            }
        }
    }
}
