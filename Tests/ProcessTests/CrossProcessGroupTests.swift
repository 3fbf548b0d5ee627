import Foundation
import MessageBus
import Testing

/// The real executables over real sockets: `helpdesk broker` in one process, kcat producing,
/// two `helpdesk tail` processes sharing one consumer group.
@Suite("Cross-process", .serialized, .timeLimit(.minutes(3)))
struct CrossProcessGroupTests {
    struct Line: Decodable {
        let event: String
        let partition: Int32?
        let offset: Int64?
        let key: String?
        let value: String?
        let partitions: [Assigned]?
        struct Assigned: Decodable { let topic: String; let partition: Int32 }
    }

    static func parse(_ lines: [String]) -> [Line] {
        lines.compactMap { try? JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
    }

    @Test func twoConsumerProcessesSplitKcatsMessagesExactlyOnceInKeyOrder() async throws {
        let helpdesk = Binaries.path("helpdesk")
        try #require(FileManager.default.isExecutableFile(atPath: helpdesk), "build helpdesk first: \(helpdesk)")
        let kcat = try #require(Binaries.which("kcat"), "kcat is required (apt-get install kcat)")

        let broker = try ChildProcess(helpdesk, ["broker", "--partitions", "6"], stdin: Pipe())
        try await waitFor("the broker's bootstrap line") { !broker.output.isEmpty }
        let bootstrap = broker.output[0]
        let topic = "tickets.inbound"
        let consumers = try (0..<2).map { _ in
            try ChildProcess(helpdesk, ["tail", topic, "--group", "cross-process", "--format", "json",
                                        "--bootstrap-servers", bootstrap],
                             environment: ["KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"])
        }
        func assigned(_ consumer: ChildProcess) -> Int {
            var owned = Set<Int32>()
            for line in Self.parse(consumer.output) {
                let partitions = Set((line.partitions ?? []).map(\.partition))
                if line.event == "assigned" { owned.formUnion(partitions) }
                if line.event == "revoked" { owned.subtract(partitions) }
            }
            return owned.count
        }
        try await waitFor("both consumers to own three partitions each") {
            assigned(consumers[0]) == 3 && assigned(consumers[1]) == 3
        }

        // 1,000 keyed messages, 50 keys, each key's values numbered in order.
        let input = (0..<1000).map { "key-\($0 % 50):\($0 / 50)" }.joined(separator: "\n") + "\n"
        let producer = Process()
        producer.executableURL = URL(fileURLWithPath: kcat)
        producer.arguments = ["-P", "-b", bootstrap, "-t", topic, "-K:", "-X", "partitioner=murmur2_random"]
        let stdin = Pipe()
        producer.standardInput = stdin
        try producer.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        producer.waitUntilExit()
        #expect(producer.terminationStatus == 0)

        func records() -> [[Line]] { consumers.map { Self.parse($0.output).filter { $0.event == "record" } } }
        try await waitFor("1,000 records consumed") { records().map(\.count).reduce(0, +) >= 1000 }
        for consumer in consumers { #expect(await consumer.terminate() == 0) }
        #expect(await broker.terminate() == 0)

        let perConsumer = records()
        let all = perConsumer.flatMap { $0 }
        #expect(all.count == 1000)
        #expect(Set(all.map { "\($0.partition!)/\($0.offset!)" }).count == 1000, "no record delivered twice")
        #expect(perConsumer.allSatisfy { !$0.isEmpty }, "both consumers did work")
        for key in 0..<50 {
            let values = all.filter { $0.key == "key-\(key)" }.map { Int($0.value!)! }
            #expect(values == Array(0..<20), "per-key order kept for key-\(key)")
        }
        // kcat and the project agree on where a key goes.
        for line in all {
            #expect(line.partition == Murmur2Partitioner.partition(for: Array(line.key!.utf8), partitionCount: 6))
        }
    }
}
