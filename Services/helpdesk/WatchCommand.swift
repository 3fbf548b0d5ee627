import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import MessageBus

/// `helpdesk watch`: a live board of open tickets.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "A live board of open tickets: severity, first response due (local and relative), clock state, escalation.",
        discussion: """
            Reads sla.events and escalation.events outside any consumer group (from the beginning, then what arrives)
            and redraws every --interval seconds. Due instants are shown in the policy's time zone ($HELPDESK_POLICY_FILE,
            else America/Denver). --once prints the board as it stands and exits.
            """)

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var policy: SLACommand.PolicyOption

    @Flag(help: "Print the board once, without clearing the screen, and exit.")
    var once = false

    @Flag(help: "Show finished tickets too.")
    var all = false

    @Option(help: "Seconds between redraws.")
    var interval = 1.0

    @Option(help: "At most this many rows.")
    var rows = 40

    func validate() throws {
        guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds") }
        guard rows >= 1 else { throw ValidationError("--rows must be at least 1") }
    }

    func run() async throws {
        let timeZone = try policy.load().calendar.timeZone
        let bus = KafkaBus(configuration: kafka.configuration, logger: kafka.logger)
        var partitions = [TopicPartition]()
        for topic in [Topics.slaEvents, Topics.escalationEvents] {
            let count = try await bus.partitionCount(of: topic)
            partitions += (0..<count).map { TopicPartition(topic, Int32($0)) }
        }
        var next = [TopicPartition: Int64]()
        var board = WatchBoard()
        let clear = !once && isatty(STDOUT_FILENO) == 1
        while true {
            // Partitions are read one after another; each read stops at the end it saw when it began.
            var records = [ConsumerRecord]()
            for partition in partitions {
                next[partition] = try await bus.readPartition(partition, from: next[partition] ?? 0) { records += $0 }
            }
            // Apply in time order across the two topics (each partition is in order already).
            for record in records.sorted(by: { $0.timestamp < $1.timestamp }) { board.apply(record) }
            let text = board.render(now: Date(), timeZone: timeZone, all: all, limit: rows)
            print((clear ? "\u{1B}[H\u{1B}[2J" : "") + text)
            fflush(nil)
            if once { break }
            // Ctrl-C ends it (the default action): it holds no group membership and commits nothing.
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }
}
