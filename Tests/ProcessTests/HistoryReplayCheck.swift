import Foundation
import HelpdeskModel
import HistoryStore
import KafkaTransport
import MessageBus
import Testing

/// The history store a run's `history` service built, live and through whatever the run did to
/// it (SIGKILLs, a broker outage, rebalances), against a store built afterwards by a second
/// `history` process replaying the topics from the start under a group of its own: row for row
/// and timeline for timeline, they must be equal.
enum HistoryReplayCheck {
    /// The distinct events on the topics the history reads.
    static func eventIds(bus: KafkaBus) async throws -> Set<String> {
        var ids = Set<String>()
        for topic in HistoryEvent.topics {
            for record in try await EndToEndTests.read(topic, bus: bus) {
                if let envelope = try? WireJSON.decode(EventEnvelope.self, from: record.value ?? []) { ids.insert(envelope.eventId.rawValue) }
            }
        }
        return ids
    }

    static func run(liveStore path: String, bootstrap: String, bus: KafkaBus, policyFile: String, slow: Bool) async throws {
        let live = try SQLiteHistory(path: path)
        // Events may still be coming (a restarted notifier retries its deliveries with backoff):
        // the topics are read again on every try, and the count must hold still for a try.
        var expected = -1
        var liveCount = 0
        try await settle(within: slow ? 120 : 60) {
            let previous = expected
            expected = try await eventIds(bus: bus).count
            liveCount = try await live.eventCount()
            return liveCount == expected && expected == previous
        }
        #expect(liveCount == expected, "the live history holds every event on its topics")

        let folder = NSTemporaryDirectory() + "history-replay-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let replay = try ChildProcess(Binaries.path("history"), [], environment: [
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "HTTP_PORT": "0", "HISTORY_CONSUMER_GROUP": "history-replay-\(UUID().uuidString.prefix(8))",
            "HISTORY_DATABASE_URL": "sqlite:\(folder)/history.sqlite", "HELPDESK_POLICY_FILE": policyFile,
            "KAFKA_FETCH_WAIT_MAX_MS": "10", "LOG_LEVEL": "warning",
        ])
        try await waitFor("the replay store exists", seconds: 30) { FileManager.default.fileExists(atPath: "\(folder)/history.sqlite") }
        let rebuilt = try SQLiteHistory(path: "\(folder)/history.sqlite")
        var replayed = 0
        let started = ContinuousClock.now
        try await settle(within: 120) {
            replayed = try await rebuilt.eventCount()
            guard replayed >= expected else { return false }
            expected = try await eventIds(bus: bus).count
            liveCount = try await live.eventCount()
            return replayed == expected && liveCount == expected
        }
        #expect(await replay.terminate() == 0)
        #expect(replayed == expected, "the replay holds every event")
        let liveRows = try await live.allTickets()
        let replayRows = try await rebuilt.allTickets()
        #expect(liveRows.count == replayRows.count && !liveRows.isEmpty)
        var differing = [String]()
        for (a, b) in zip(liveRows, replayRows) where a != b { differing.append("\(a.externalId): \(a) ≠ \(b)") }
        #expect(differing.isEmpty, "rows differ: \(differing.prefix(3))")
        var timelines = 0
        for row in liveRows {
            let a = try await live.ticket(row.ticketId)?.timeline.map(\.eventId)
            let b = try await rebuilt.ticket(row.ticketId)?.timeline.map(\.eventId)
            if a != b { timelines += 1 }
        }
        #expect(timelines == 0, "\(timelines) timelines differ")
        print("history: \(liveRows.count) tickets, \(expected) events; the replay took \(ContinuousClock.now - started) and matches row for row")
    }
}
