import Foundation
import KafkaTransport
import MessageBus
import Testing

/// One contract, run against every backend, so the in-memory double cannot drift from Kafka.
@Suite("Broker contract", .serialized, .timeLimit(.minutes(3)))
struct BrokerContractTests {
    @Test("records of one key arrive in the order they were published", arguments: allBackends)
    func perKeyOrdering(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("ordering")
        try broker.createTopic(topic, 6)
        let publisher = try broker.bus.makePublisher()
        let sent = testRecords(topic: topic, keys: 12, perKey: 40)
        _ = try await publisher.publish(sent)
        await publisher.close()

        let member = Member(try await broker.bus.subscribe(group: "g", topics: [topic]))
        try await eventually("all records consumed") { await member.log.records.count >= sent.count }
        try await member.stop()
        let received = await member.log.records
        #expect(received.count == sent.count)
        for key in 0..<12 {
            let values = received.filter { $0.keyString == "key-\(key)" }.map { String(decoding: $0.value!, as: UTF8.self) }
            let expected = sent.filter { $0.key == Array("key-\(key)".utf8) }.map { String(decoding: $0.value!, as: UTF8.self) }
            #expect(values == expected)
        }
        #expect(await member.log.recordsFollowAssignments())
    }

    @Test("a key lands in its murmur2 partition", arguments: allBackends)
    func keyPartitioning(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("partitioning")
        try broker.createTopic(topic, 6)
        let publisher = try broker.bus.makePublisher()
        let records = (0..<200).map { OutgoingRecord(topic: topic, key: "crm/CRM-\($0)", value: [1]) }
        let receipts = try await publisher.publish(records)
        await publisher.close()
        for (record, receipt) in zip(records, receipts) {
            #expect(receipt.partition == Murmur2Partitioner.partition(for: record.key!, partitionCount: 6))
        }
        #expect(try await broker.bus.partitionCount(of: topic) == 6)
    }

    @Test("two members split the partitions and no record reaches both", arguments: allBackends)
    func groupSplitsPartitions(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("split")
        try broker.createTopic(topic, 6)
        let first = Member(try await broker.bus.subscribe(group: "split", topics: [topic]))
        let second = Member(try await broker.bus.subscribe(group: "split", topics: [topic]))
        try await eventually("both members assigned three partitions") {
            let (x, y) = (await first.log.assignedNow.count, await second.log.assignedNow.count)
            return x == 3 && y == 3
        }
        let publisher = try broker.bus.makePublisher()
        let sent = testRecords(topic: topic, keys: 30, perKey: 20)
        _ = try await publisher.publish(sent)
        await publisher.close()
        try await eventually("all records consumed") {
            await first.log.records.count + second.log.records.count >= sent.count
        }
        // Stop both before either leaves: a leaving member's uncommitted records would
        // (rightly) be redelivered to the other.
        await first.stopPolling()
        await second.stopPolling()
        try await first.stop()
        try await second.stop()
        let a = await first.log.records.map { "\($0.partition)/\($0.offset)" }
        let b = await second.log.records.map { "\($0.partition)/\($0.offset)" }
        #expect(a.count + b.count == sent.count)
        #expect(Set(a).isDisjoint(with: Set(b)))
        #expect(Set(a).count == a.count && Set(b).count == b.count)
        #expect(!a.isEmpty && !b.isEmpty)
        #expect(await first.log.recordsFollowAssignments())
        #expect(await second.log.recordsFollowAssignments())
    }

    @Test("records a member took without committing go to the other member when it leaves", arguments: allBackends)
    func uncommittedRecordsAreRedelivered(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("redelivery")
        try broker.createTopic(topic, 6)
        let leaver = Member(try await broker.bus.subscribe(group: "redelivery", topics: [topic]))
        let stayer = Member(try await broker.bus.subscribe(group: "redelivery", topics: [topic]))
        try await eventually("both members assigned") {
            let (x, y) = (await leaver.log.assignedNow.count, await stayer.log.assignedNow.count)
            return x == 3 && y == 3
        }
        let publisher = try broker.bus.makePublisher()
        let sent = testRecords(topic: topic, keys: 30, perKey: 4)
        _ = try await publisher.publish(sent)
        await publisher.close()
        try await eventually("all records consumed once") {
            await leaver.log.records.count + stayer.log.records.count >= sent.count
        }
        // The stayer commits what it processed; the leaver commits nothing.
        let stayerRecords = await stayer.log.records
        try await stayer.subscription.commit(nextOffsets(after: stayerRecords))
        let taken = Set(await leaver.log.records.map { "\($0.partition)/\($0.offset)" })
        #expect(!taken.isEmpty)
        try await leaver.stop()
        try await eventually("the leaver's records redelivered") {
            let again = Set(await stayer.log.records.map { "\($0.partition)/\($0.offset)" })
            return taken.isSubset(of: again)
        }
        try await stayer.stop()
        #expect(await stayer.log.recordsFollowAssignments())
    }

    @Test("committed offsets survive a restart of the consumer", arguments: allBackends)
    func committedOffsetsSurviveRestart(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("commits")
        try broker.createTopic(topic, 6)
        let publisher = try broker.bus.makePublisher()
        let sent = testRecords(topic: topic, keys: 10, perKey: 10)
        _ = try await publisher.publish(sent)

        let subscription = try await broker.bus.subscribe(group: "commits", topics: [topic])
        let processed = try await within(30, "first consumer reads half") {
            var seen = [ConsumerRecord]()
            while seen.count < 50 {
                for case .record(let record) in try await subscription.poll(max: 50 - seen.count) { seen.append(record) }
            }
            return seen
        }
        let offsets = nextOffsets(after: processed)
        try await subscription.commit(offsets)
        #expect(try await subscription.committed(Array(offsets.keys)) == offsets)
        try await subscription.close()

        let restarted = Member(try await broker.bus.subscribe(group: "commits", topics: [topic]))
        let done = Set(processed.map { "\($0.partition)/\($0.offset)" })
        try await eventually("the rest delivered") { await restarted.log.records.count >= sent.count - processed.count }
        _ = try await publisher.publish(OutgoingRecord(topic: topic, key: "marker", value: [0]))
        try await eventually("marker delivered") { await restarted.log.records.contains { $0.keyString == "marker" } }
        await publisher.close()
        try await restarted.stop()
        let rest = await restarted.log.records.filter { $0.keyString != "marker" }.map { "\($0.partition)/\($0.offset)" }
        #expect(rest.count == sent.count - processed.count)
        #expect(Set(rest).isDisjoint(with: done))
    }

    @Test("end offsets are the broker's at the time of asking", arguments: allBackends)
    func endOffsetsAreAskedOfTheBroker(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("ends")
        try broker.createTopic(topic, 3)
        let subscription = try await broker.bus.subscribe(group: "ends", topics: [topic])
        let queries = try broker.bus.makeQueries()
        let partitions = (0..<3).map { TopicPartition(topic, Int32($0)) }
        #expect(try await queries.endOffsets(of: partitions) == Dictionary(uniqueKeysWithValues: partitions.map { ($0, 0) }))
        let publisher = try broker.bus.makePublisher()
        let receipts = try await publisher.publish((0..<30).map { OutgoingRecord(topic: topic, key: nil, value: [UInt8($0)], partition: Int32($0 % 2)) })
        await publisher.close()
        #expect(receipts.count == 30)
        // Asked again at once, before this member has read anything: the answer is not a cached one.
        #expect(try await queries.endOffsets(of: partitions) == [partitions[0]: 15, partitions[1]: 15, partitions[2]: 0])
        #expect(try await queries.endOffsets(of: []) == [:])
        try await subscription.close()
        await queries.close()
    }

    @Test("end offsets cannot be learnt while the broker is down, and can again after",
          arguments: allBackends.filter { $0.features.contains(.brokerOutage) })
    func endOffsetsFailDuringAnOutage(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("ends-outage")
        try broker.createTopic(topic, 1)
        let publisher = try broker.bus.makePublisher()
        _ = try await publisher.publish(OutgoingRecord(topic: topic, key: "k", value: [1]))
        let queries = try broker.bus.makeQueries()
        let partition = TopicPartition(topic, 0)
        #expect(try await queries.endOffsets(of: [partition]) == [partition: 1])
        broker.brokerDown()
        await #expect(throws: BusError.self) { try await queries.endOffsets(of: [partition]) }
        broker.brokerUp()
        _ = try await publisher.publish(OutgoingRecord(topic: topic, key: "k", value: [2]))
        await publisher.close()
        try await eventually("the broker answers again", timeout: 30) {
            (try? await queries.endOffsets(of: [partition])) == [partition: 2]
        }
        await queries.close()
    }

    @Test("another group's commits are read as the broker has them now", arguments: allBackends)
    func anotherGroupsCommitsAreAskedOfTheBroker(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let upstreamTopic = uniqueTopic("upstream")
        let ownTopic = uniqueTopic("downstream")
        try broker.createTopic(upstreamTopic, 2)
        try broker.createTopic(ownTopic, 1)
        let partitions = [TopicPartition(upstreamTopic, 0), TopicPartition(upstreamTopic, 1)]
        let publisher = try broker.bus.makePublisher()
        _ = try await publisher.publish((0..<6).map { OutgoingRecord(topic: upstreamTopic, key: nil, value: [UInt8($0)], partition: 0) })
        await publisher.close()
        let downstream = try broker.bus.makeQueries()
        let upstreamGroup = uniqueTopic("upstream-group")
        #expect(try await downstream.committed(partitions, ofGroup: upstreamGroup) == [:], "a group that never committed")

        let upstream = Member(try await broker.bus.subscribe(group: upstreamGroup, topics: [upstreamTopic]))
        try await eventually("upstream owns both partitions") { await upstream.log.assignedNow == Set(partitions) }
        try await upstream.subscription.commit([partitions[0]: 4])
        // Asked at once after the commit: the answer is not a cached one.
        #expect(try await downstream.committed(partitions, ofGroup: upstreamGroup) == [partitions[0]: 4])
        try await upstream.subscription.commit([partitions[0]: 6, partitions[1]: 0])
        #expect(try await downstream.committed(partitions, ofGroup: upstreamGroup) == [partitions[0]: 6, partitions[1]: 0])
        #expect(try await downstream.committed([partitions[1]], ofGroup: upstreamGroup) == [partitions[1]: 0])
        #expect(try await downstream.committed([], ofGroup: upstreamGroup) == [:])
        try await upstream.stop()
        // Commits outlive the members that made them.
        #expect(try await downstream.committed(partitions, ofGroup: upstreamGroup) == [partitions[0]: 6, partitions[1]: 0])
        await downstream.close()
    }

    @Test("another group's commits cannot be learnt while the broker is down",
          arguments: allBackends.filter { $0.features.contains(.brokerOutage) })
    func anotherGroupsCommitsFailDuringAnOutage(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("commits-outage")
        try broker.createTopic(topic, 1)
        let partition = TopicPartition(topic, 0)
        let upstreamGroup = uniqueTopic("commits-outage-upstream")
        let upstream = Member(try await broker.bus.subscribe(group: upstreamGroup, topics: [topic]))
        try await eventually("upstream owns the partition") { await upstream.log.assignedNow == [partition] }
        try await upstream.subscription.commit([partition: 0])
        let downstream = try broker.bus.makeQueries()
        #expect(try await downstream.committed([partition], ofGroup: upstreamGroup) == [partition: 0])
        try await expectUnanswered(whileDown: broker, thenAgain: [partition: 0]) {
            try await downstream.committed([partition], ofGroup: upstreamGroup)
        }
        try await upstream.stop()
        await downstream.close()
    }

    @Test("a topic's partitions are counted as the broker has them, and cannot be while it is down",
          arguments: allBackends.filter { $0.features.contains(.brokerOutage) })
    func partitionsAreCountedByTheBroker(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let counted = uniqueTopic("counted")
        try broker.createTopic(counted, 3)
        let queries = try broker.bus.makeQueries()
        #expect(try await queries.partitionCount(of: counted) == 3)
        try await expectUnanswered(whileDown: broker, thenAgain: 3) { try await queries.partitionCount(of: counted) }
        await queries.close()
    }

    @Test("partitions added to a topic are counted at once, and its readers are assigned them",
          arguments: allBackends.filter { $0.features.contains(.partitionsAdded) })
    func addedPartitionsAreCountedAndAssigned(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("growing")
        try broker.createTopic(topic, 2)
        let reader = Member(try await broker.bus.subscribe(group: uniqueTopic("growing-readers"), topics: [topic]))
        try await eventually("the reader owns both partitions") { await reader.log.assignedNow.count == 2 }
        broker.addPartitions(topic, 4)
        let queries = try broker.bus.makeQueries()
        #expect(try await queries.partitionCount(of: topic) == 4)
        await queries.close()
        try await eventually("the reader owns all four") {
            await reader.log.assignedNow == Set((0..<4).map { TopicPartition(topic, Int32($0)) })
        }
        #expect(await reader.log.recordsFollowAssignments())
        try await reader.stop()
    }

    @Test("a revoked partition moves only after its member asks for more", arguments: allBackends)
    func revocationPrecedesReassignment(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("revocation")
        try broker.createTopic(topic, 2)
        let first = try await broker.bus.subscribe(group: "revocation", topics: [topic])
        let initial = try await within(30, "first assignment") {
            var events = [ConsumerEvent]()
            while EventLog.currentAssignment(events).count < 2 { events += try await first.poll(max: 10) }
            return events
        }
        #expect(initial.first == .assigned([TopicPartition(topic, 0), TopicPartition(topic, 1)]))
        let second = Member(try await broker.bus.subscribe(group: "revocation", topics: [topic]))
        // The first member sees the revocation as the last event of its batch...
        let revoked = try await within(30, "revocation") {
            var events = [ConsumerEvent]()
            while !events.contains(where: { if case .revoked = $0 { true } else { false } }) {
                events += try await first.poll(max: 10)
            }
            return events
        }
        if case .revoked(let partitions)? = revoked.last {
            #expect(partitions.count == 2)
        } else {
            Issue.record("a batch must end with the revocation, got \(revoked)")
        }
        // ...and nobody holds the partitions until it asks again.
        #expect(await second.log.assignedNow.isEmpty)
        let member = Member(first)
        try await eventually("reassigned") {
            let (x, y) = (await member.log.assignedNow.count, await second.log.assignedNow.count)
            return x == 1 && y == 1
        }
        try await member.stop()
        try await second.stop()
    }

    @Test("a record over 2 MiB is refused for good, naming its place in the call", arguments: allBackends)
    func oversizedRecordsAreRefused(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("oversized")
        try broker.createTopic(topic, 1)
        let publisher = try broker.bus.makePublisher()
        let small = OutgoingRecord(topic: topic, key: "small", value: [1])
        let huge = OutgoingRecord(topic: topic, key: "huge", value: [UInt8](repeating: 7, count: 3 << 20))
        do {
            _ = try await publisher.publish([small, huge])
            Issue.record("a 3 MiB record was taken")
        } catch BusError.recordRefused(let refusedTopic, let index, _) {
            #expect(refusedTopic == topic)
            #expect(index == 1)
        }
        // The refusal is the record's alone: the publisher still works.
        _ = try await publisher.publish(small)
        await publisher.close()
    }

    @Test("headers and a 1 MiB value round-trip", arguments: allBackends)
    func headersAndLargeValues(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("large")
        try broker.createTopic(topic, 1)
        let value = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let headers = [RecordHeader("ce_id", "abc"), RecordHeader("binary", [0, 255, 1]), RecordHeader("empty", [])]
        let publisher = try broker.bus.makePublisher()
        _ = try await publisher.publish(OutgoingRecord(topic: topic, key: "big", value: value, headers: headers))
        _ = try await publisher.publish(OutgoingRecord(topic: topic, key: nil, value: nil, headers: []))
        await publisher.close()
        let member = Member(try await broker.bus.subscribe(group: "large", topics: [topic]))
        try await eventually("both records consumed") { await member.log.records.count >= 2 }
        try await member.stop()
        let records = await member.log.records
        #expect(records[0].value == value)
        #expect(records[0].headers == headers)
        #expect(records[0].keyString == "big")
        #expect(records[1].key == nil)
        #expect(records[1].value == nil)
    }

    @Test("publishing to a missing topic creates it where the broker auto-creates", arguments: allBackends)
    func autoCreatedTopic(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("autocreated")
        let publisher = try broker.bus.makePublisher()
        let receipt = try await within(30, "publish to a new topic") {
            try await publisher.publish(OutgoingRecord(topic: topic, key: "k", value: [42]))
        }
        await publisher.close()
        #expect(receipt.offset == 0)
        let member = Member(try await broker.bus.subscribe(group: "autocreated", topics: [topic]))
        try await eventually("record consumed") { await member.log.records.count == 1 }
        try await member.stop()
    }

    @Test("publishing to a missing topic fails clearly where the broker refuses", arguments: allBackends)
    func refusedTopic(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: false)
        defer { broker.stop() }
        let topic = uniqueTopic("refused")
        broker.refuseTopic(topic)
        let publisher = try broker.bus.makePublisher()
        await #expect(throws: BusError.unknownTopic(topic)) {
            try await within(60, "refusal") { try await publisher.publish(OutgoingRecord(topic: topic, key: "k", value: [1])) }
        }
        await publisher.close()
        #expect(BusError.unknownTopic(topic).description.contains("does not exist"))
    }

    @Test("producer and consumer carry on through a broker outage", arguments: allBackends.filter { $0.features.contains(.brokerOutage) })
    func brokerOutage(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("outage")
        try broker.createTopic(topic, 3)
        let member = Member(try await broker.bus.subscribe(group: "outage", topics: [topic]))
        try await eventually("assigned") { await member.log.assignedNow.count == 3 }
        let publisher = try broker.bus.makePublisher()
        let before = testRecords(topic: topic, keys: 9, perKey: 10)
        _ = try await publisher.publish(before)
        try await eventually("records before the outage consumed") { await member.log.records.count >= before.count }

        broker.brokerDown()
        if let producer = publisher as? KafkaProducer {
            try await eventually("the producer notices the outage") { !producer.health.isReachable }
        }
        let during = testRecords(topic: topic, keys: 9, perKey: 10).map {
            OutgoingRecord(topic: $0.topic, key: $0.key, value: Array("during-".utf8) + $0.value!)
        }
        let publishing = Task { try await publisher.publish(during) }
        broker.brokerUp()
        _ = try await within(60, "publish across the outage") { try await publishing.value }
        try await eventually("records published during the outage consumed", timeout: 60) {
            await member.log.records.count >= before.count + during.count
        }
        await publisher.close()
        try await member.stop()
        let values = Set(await member.log.records.map { $0.value! })
        #expect(values.isSuperset(of: Set((before + during).map { $0.value! })))
    }
}

func nextOffsets(after records: [ConsumerRecord]) -> [TopicPartition: Int64] {
    var offsets = [TopicPartition: Int64]()
    for record in records { offsets[record.topicPartition] = max(offsets[record.topicPartition] ?? 0, record.offset + 1) }
    return offsets
}

/// Reading a partition outside any group: what stateful services restore their changelogs with.
@Suite("Partition reads", .serialized, .timeLimit(.minutes(3)))
struct PartitionReadContractTests {
    @Test("a partition reads back in order from an offset to its end, and an explicit partition is honoured",
          arguments: allBackends)
    func readFromOffsetToEnd(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("changelog")
        try broker.createTopic(topic, 4)
        let publisher = try broker.bus.makePublisher()
        // Keys that murmur2 would spread, all sent to partition 2, plus a header.
        let sent = (0..<5000).map {
            OutgoingRecord(topic: topic, key: "tk_\($0 % 50)", value: Array("v\($0)".utf8),
                           headers: [RecordHeader("checkpoint", "\($0)")], partition: 2)
        }
        let receipts = try await publisher.publish(sent)
        #expect(receipts.allSatisfy { $0.partition == 2 })
        #expect(receipts.map(\.offset) == (0..<5000).map(Int64.init))

        var read = [ConsumerRecord]()
        var batches = 0
        let end = try await broker.bus.readPartition(TopicPartition(topic, 2), from: 1200) { batch in
            read += batch
            batches += 1
        }
        #expect(end == 5000)
        #expect(read.map(\.offset) == (1200..<5000).map(Int64.init))
        #expect(read.first?.value == Array("v1200".utf8))
        #expect(read.last?.headers.string(for: "checkpoint") == "4999")
        #expect(batches >= 2, "records arrive in bounded batches")

        // An empty partition, and an offset at the end, read nothing.
        var none = 0
        #expect(try await broker.bus.readPartition(TopicPartition(topic, 0), from: 0) { none += $0.count } == 0)
        #expect(try await broker.bus.readPartition(TopicPartition(topic, 2), from: 5000) { none += $0.count } == 5000)
        #expect(none == 0)

        // The latest value of a key, as `helpdesk sla status` finds a ticket's state.
        _ = try await publisher.publish([OutgoingRecord(topic: topic, key: "tk_7", value: Array("latest".utf8))])
        await publisher.close()
        let latest = try await broker.bus.latestValue(forKey: "tk_7", in: topic)
        #expect(latest?.value == Array("latest".utf8))
        #expect(try await broker.bus.latestValue(forKey: "tk_unknown", in: topic) == nil)
    }

    @Test("reading a partition that does not exist is an error", arguments: allBackends)
    func unknownPartition(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: false)
        defer { broker.stop() }
        let topic = uniqueTopic("absent")
        try broker.createTopic(topic, 2)
        await #expect(throws: BusError.self) {
            _ = try await broker.bus.readPartition(TopicPartition(topic, 7), from: 0) { _ in }
        }
    }
}

@Suite("topic tail contract", .serialized)
struct TopicTailContractTests {
    @Test("a tail reads every partition from its start, then what arrives, and says how far it got", arguments: allBackends)
    func aTailFollowsTheTopic(backend: any ContractBackend) async throws {
        let broker = try await backend.start(autoCreateTopics: true)
        defer { broker.stop() }
        let topic = uniqueTopic("tail")
        try broker.createTopic(topic, 3)
        let publisher = try broker.bus.makePublisher()
        _ = try await publisher.publish((0..<30).map { OutgoingRecord(topic: topic, key: "k\($0)", value: [UInt8($0)], partition: Int32($0 % 3)) })
        let tail = try await broker.bus.tail(topic)
        /// Reads until `done` holds of what was read, in batches of at most `max`.
        @Sendable func read(
            _ records: [ConsumerRecord], _ reached: [TopicPartition: Int64], max: Int,
            until done: @escaping @Sendable ([ConsumerRecord], [TopicPartition: Int64]) -> Bool
        ) async throws -> ([ConsumerRecord], [TopicPartition: Int64]) {
            try await within(30, "the tail reads") {
                var (records, reached) = (records, reached)
                while !done(records, reached) {
                    let batch = try await tail.next(max: max)
                    #expect(batch.records.count <= max)
                    records += batch.records
                    reached.merge(batch.reached) { Swift.max($0, $1) }
                }
                return (records, reached)
            }
        }
        var (records, reached) = try await read([], [:], max: 7) { records, _ in records.count == 30 }
        _ = try await publisher.publish(OutgoingRecord(topic: topic, key: "late", value: [99], partition: 1))
        await publisher.close()
        (records, reached) = try await read(records, reached, max: 100) { records, reached in
            records.count == 31 && reached[TopicPartition(topic, 1)] == 11
        }
        for partition in 0..<3 {
            let offsets = records.filter { $0.partition == Int32(partition) }.map(\.offset)
            #expect(offsets == offsets.sorted(), "in order per partition")
        }
        #expect(Set(records.map(\.keyString)).count == 31)
        await tail.close()
    }
}
