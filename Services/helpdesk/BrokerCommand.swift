import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import Logging

/// `helpdesk broker`: the embedded development broker (librdkafka's mock cluster).
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an embedded Kafka-protocol broker (librdkafka mock cluster) on 127.0.0.1 with every HelpdeskSLA topic.",
        discussion: """
            Prints the bootstrap servers as the first line of standard output and runs until SIGINT or SIGTERM.
            Fault injection: write `down <broker-id>` or `up <broker-id>` lines to its standard input.
            Development only: the mock cluster keeps about the last 5 MB of each partition and drops older
            records silently, and keeps nothing across restarts.
            """)

    @Option(help: "Number of brokers in the mock cluster.")
    var brokers: Int = 1

    @Option(help: "Partitions per topic.")
    var partitions: Int = 6

    @Option(help: "Also write the bootstrap servers to this file.")
    var bootstrapFile: String?

    func validate() throws {
        guard (1...9).contains(brokers) else { throw ValidationError("--brokers must be between 1 and 9") }
        guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be between 1 and 256") }
    }

    func run() async throws {
        var logger = Logger(label: "broker")
        logger.logLevel = .error
        let cluster = try MockKafkaCluster(brokers: brokers, logger: logger)
        for topic in Topics.all {
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: min(brokers, 3))
        }
        if let bootstrapFile {
            try (cluster.bootstrapServers + "\n").write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }
        print(cluster.bootstrapServers)
        fflush(nil)
        FileHandle.standardError.write(Data("""
            helpdesk broker: librdkafka \(KafkaVersion.string) mock cluster, \(brokers) broker(s), \(Topics.all.count) topics × \(partitions) partitions
              bootstrap: \(cluster.bootstrapServers)
              DEVELOPMENT ONLY: keeps only about the last 5 MB of each partition (older records are silently
              dropped) and nothing across restarts. Stop with Ctrl-C.

            """.utf8))
        FaultControl.listen(on: cluster)
        _ = await waitForInterrupt()
        cluster.shutdown()
    }
}

/// Reads `down N` / `up N` lines from standard input to take mock brokers down and up.
enum FaultControl {
    static func listen(on cluster: MockKafkaCluster) {
        let thread = Thread {
            while let line = readLine() {
                let words = line.split(separator: " ")
                guard words.count == 2, let id = Int32(words[1]) else { continue }
                switch words[0] {
                case "down": cluster.setBrokerDown(id)
                case "up": cluster.setBrokerUp(id)
                default: continue
                }
                FileHandle.standardError.write(Data("helpdesk broker: broker \(id) \(words[0])\n".utf8))
            }
        }
        thread.start()
    }
}
