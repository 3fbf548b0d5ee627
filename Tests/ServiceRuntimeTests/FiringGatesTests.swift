import Foundation
import Logging
import MessageBus
import PropertyBased
@testable import ServiceRuntime
import Synchronization
import Testing

/// A broker's answers about a small world: an upstream topic and group, and the partitions' own
/// inputs, with the requests it was asked counted by kind. It can be taken down.
final class WorldQueries: BrokerQueries {
    struct World {
        var ends: [TopicPartition: Int64] = [:]
        var commits: [String: [TopicPartition: Int64]] = [:]
        var partitionCounts: [String: Int] = [:]
        var down = false
        var requests: [String] = []
    }

    let world = Mutex(World())

    func committed(_ partitions: [TopicPartition], ofGroup group: String) async throws -> [TopicPartition: Int64] {
        try world.withLock { world in
            world.requests.append("committed")
            if world.down { throw BusError.unavailable("down") }
            return (world.commits[group] ?? [:]).filter { partitions.contains($0.key) }
        }
    }

    func endOffsets(of partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        try world.withLock { world in
            world.requests.append("endOffsets")
            if world.down { throw BusError.unavailable("down") }
            return Dictionary(uniqueKeysWithValues: partitions.map { ($0, world.ends[$0] ?? 0) })
        }
    }

    func partitionCount(of topic: String) async throws -> Int {
        try world.withLock { world in
            world.requests.append("partitionCount")
            if world.down { throw BusError.unavailable("down") }
            return world.partitionCounts[topic] ?? 1
        }
    }

    func close() async {}
}

func record(_ partition: TopicPartition, _ offset: Int64, publishedAt: Date = Date(timeIntervalSince1970: 0)) -> ConsumerRecord {
    ConsumerRecord(topic: partition.topic, partition: partition.partition, offset: offset, key: nil, value: nil, headers: [],
                   timestamp: publishedAt)
}

@Suite("firing gates: the loop's composition")
struct FiringGatesTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let logger = Logger(label: "gates")

    func inputs(_ partition: Int32) -> [TopicPartition] {
        [TopicPartition("tickets.classified", partition), TopicPartition("tickets.activity", partition)]
    }

    @Test func dueDeadlinesOfManyPartitionsAreCheckedInOneRequest() async throws {
        let queries = WorldQueries()
        var gates = FiringGates(shared: [], queries: queries, service: "test", logger: logger)
        for partition in Int32(0)..<6 {
            gates.own(partition, gates: [InputProgress(positions: Dictionary(uniqueKeysWithValues: inputs(partition).map { ($0, 0) }))])
        }
        let deadlines = Dictionary(uniqueKeysWithValues: (Int32(0)..<6).map { ($0, t0) })
        #expect((0..<6).allSatisfy { gates.limit(of: Int32($0), now: t0) < t0 }, "nothing fires before a check")
        try await gates.check(deadlines, now: t0.addingTimeInterval(1))
        #expect(queries.world.withLock { $0.requests } == ["endOffsets"])
        #expect((0..<6).allSatisfy { gates.limit(of: Int32($0), now: t0.addingTimeInterval(2)) == t0.addingTimeInterval(1) })
    }

    @Test func aPartitionsOwnGateIsAskedOnlyOnceTheSharedGateLetsItsDeadlineThrough() async throws {
        let queries = WorldQueries()
        let upstream = TopicPartition("tickets.inbound", 0)
        queries.world.withLock {
            $0.ends[upstream] = 3
            $0.commits["intake"] = [upstream: 2]
        }
        var gates = FiringGates(
            shared: [UpstreamProgress(Upstream(topic: "tickets.inbound", group: "intake"), partitionCount: 1, countedAt: t0)],
            queries: queries, service: "test", logger: logger)
        gates.own(0, gates: [InputProgress(positions: [inputs(0)[0]: 0, inputs(0)[1]: 0])])
        let now = t0.addingTimeInterval(10)
        try await gates.check([0: t0], now: now)
        #expect(queries.world.withLock { $0.requests } == ["endOffsets", "committed"], "intake is behind: the input waits")
        #expect(gates.limit(of: 0, now: now) == .distantPast)
        #expect(gates.wakeAt(for: t0, of: 0, now: now) == now.addingTimeInterval(0.01), "asked again after the poll interval")

        queries.world.withLock { $0.commits["intake"] = [upstream: 3] }
        let later = now.addingTimeInterval(0.01)
        try await gates.check([0: t0], now: later)
        #expect(queries.world.withLock { $0.requests } == ["endOffsets", "committed", "committed", "endOffsets"])
        #expect(gates.limit(of: 0, now: later) == now, "covers the instant intake's end offsets were asked")
    }

    @Test func anOutageHoldsTimersAndTheQuestionIsAskedAgainAfterTheRetryInterval() async throws {
        let queries = WorldQueries()
        queries.world.withLock { $0.down = true }
        var gates = FiringGates(shared: [], queries: queries, service: "test", logger: logger)
        gates.own(0, gates: [InputProgress(positions: [inputs(0)[0]: 0])])
        let now = t0.addingTimeInterval(1)
        try await gates.check([0: t0], now: now)
        #expect(gates.limit(of: 0, now: now) == .distantPast)
        #expect(gates.wakeAt(for: t0, of: 0, now: now) == now.addingTimeInterval(InputProgress.retryInterval))
        try await gates.check([0: t0], now: now.addingTimeInterval(0.1))
        #expect(queries.world.withLock { $0.requests }.count == 1, "not asked again before the retry interval")
    }

    @Test func aDeadlineWakesTheLoopOnlyWhenEveryGateCouldLetItThrough() {
        struct Holding: FiringGate {
            let until: Date?
            func limit(now: Date) -> Date { until.map { min(now, $0) } ?? .distantPast }
            func wakeAt(for deadline: Date, now: Date) -> Date? { until.map { max(deadline, $0) } }
        }
        var gates = FiringGates(shared: [], queries: WorldQueries(), service: "test", logger: logger)
        gates.own(0, gates: [Holding(until: t0.addingTimeInterval(5)), Holding(until: t0.addingTimeInterval(3))])
        gates.own(1, gates: [Holding(until: t0), Holding(until: nil)])
        #expect(gates.wakeAt(for: t0, of: 0, now: t0) == t0.addingTimeInterval(5))
        #expect(gates.limit(of: 0, now: t0.addingTimeInterval(10)) == t0.addingTimeInterval(3))
        #expect(gates.wakeAt(for: t0, of: 1, now: t0) == nil, "a gate waiting for records leaves the waking to them")
        #expect(gates.wakeAt(for: nil, of: 0, now: t0) == nil)
    }
}

/// Random interleavings of a world and one partition's gates driven as the loop drives them:
/// records published upstream and handed on by the upstream group, records published straight
/// to the input, reads, turns of the loop (checks), outages, time passing. Whatever the order, a
/// deadline never passes the gates while a record published before it is unread or upstream.
@Suite("firing gates: properties")
struct FiringGatesPropertyTests {
    enum Step: Int, CaseIterable {
        case publishUpstream, upstreamHandsOn, upstreamCommits, publishInput, readInput, turn, brokerDown, brokerUp, wait
    }

    @Test func noDeadlinePassesInputStillUpstreamOrUnread() async {
        let steps = Gen.int(in: 0...(Step.allCases.count - 1)).array(of: 1...200)
        await propertyCheck(count: 300, input: steps) { script in
            let upstreamTopic = TopicPartition("tickets.inbound", 0)
            let input = TopicPartition("tickets.activity", 0)
            let queries = WorldQueries()
            var upstreamPublished: [Double] = []
            var handedOn = 0
            var inputOrigins: [Double] = []  // per input record: when it, or its upstream record, was published
            var read = 0
            var now = 1_000.0
            var date: Date { Date(timeIntervalSince1970: now) }
            var gates = FiringGates(
                shared: [UpstreamProgress(Upstream(topic: "tickets.inbound", group: "intake", maxWait: .seconds(1_000_000)),
                                          partitionCount: 1, countedAt: date)],
                queries: queries, service: "test", logger: Logger(label: "gates"))
            gates.own(0, gates: [InputProgress(positions: [input: 0])])
            for raw in script {
                switch Step(rawValue: raw)! {
                case .publishUpstream:
                    upstreamPublished.append(now)
                    queries.world.withLock { $0.ends[upstreamTopic] = Int64(upstreamPublished.count) }
                case .upstreamHandsOn:
                    guard handedOn < upstreamPublished.count else { break }
                    inputOrigins.append(upstreamPublished[handedOn])
                    handedOn += 1
                    queries.world.withLock { $0.ends[input] = Int64(inputOrigins.count) }
                case .upstreamCommits:
                    queries.world.withLock { $0.commits["intake"] = [upstreamTopic: Int64(handedOn)] }
                case .publishInput:
                    inputOrigins.append(now)
                    queries.world.withLock { $0.ends[input] = Int64(inputOrigins.count) }
                case .readInput:
                    guard read < inputOrigins.count else { break }
                    gates.read(record(input, Int64(read)), eventTime: nil)
                    read += 1
                case .turn:
                    try? await gates.check([0: date], now: date)
                case .brokerDown:
                    queries.world.withLock { $0.down = true }
                case .brokerUp:
                    queries.world.withLock { $0.down = false }
                case .wait:
                    now += 0.5
                }
                let limit = gates.limit(of: 0, now: date).timeIntervalSince1970
                #expect(limit <= now)
                let unread = inputOrigins[read...] + upstreamPublished[handedOn...]
                #expect(unread.allSatisfy { $0 >= limit }, "a record published at \(unread.min() ?? 0) is unread at limit \(limit)")
            }
            // Liveness: everything handed on, committed and read, the broker up, a few turns later
            // a deadline due now passes.
            while handedOn < upstreamPublished.count {
                inputOrigins.append(upstreamPublished[handedOn])
                handedOn += 1
            }
            queries.world.withLock {
                $0.down = false
                $0.commits["intake"] = [upstreamTopic: Int64(handedOn)]
                $0.ends[input] = Int64(inputOrigins.count)
            }
            while read < inputOrigins.count {
                gates.read(record(input, Int64(read)), eventTime: nil)
                read += 1
            }
            now += 1
            let deadline = date
            for _ in 0..<4 {
                try? await gates.check([0: deadline], now: date)
                now += 0.5
            }
            #expect(gates.limit(of: 0, now: date) >= deadline)
        }
    }
}
