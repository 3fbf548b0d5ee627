import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import MessageBus
import Synchronization

/// `helpdesk bench`: measurements printed as `name value` lines for scripts/bench to tabulate.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks.", subcommands: [TransportBench.self, SLABench.self, PipelineBench.self, ClassifyBench.self, SLATimerBench.self,
                       StatusReadBench.self, WebhookReceiverBench.self, HistoryBench.self, ForecastBench.self])
}

struct TransportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Produce then consume N records through the project's Kafka transport and print the rates.")

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Topic to use (it should be empty).")
    var topic: String = "bench.transport"

    @Option(help: "Records to produce and consume.")
    var messages: Int = 100_000

    @Option(help: "Value size in bytes.")
    var size: Int = 200

    @Option(help: "Records per publish call.")
    var batch: Int = 5_000

    @Option(help: "Publish calls in flight at once.")
    var inFlight: Int = 4

    func run() async throws {
        let configuration = kafka.configuration
        let producer = try KafkaProducer(configuration: configuration, logger: kafka.logger)
        let value = [UInt8](repeating: 0x61, count: size)
        let records = (0..<messages).map { OutgoingRecord(topic: topic, key: "key-\($0 % 1000)", value: value) }
        // Warm up the connection and metadata outside the measurement.
        _ = try await producer.publish(OutgoingRecord(topic: topic, key: "warmup", value: value))

        let produceStart = ContinuousClock.now
        try await publishInChunks(records, with: producer, chunk: batch, inFlight: inFlight)
        let produceSeconds = (ContinuousClock.now - produceStart).timeInterval
        await producer.close()

        let consumer = try KafkaConsumer(
            configuration: configuration, group: "bench-\(UUID().uuidString.prefix(8))", topics: [topic],
            logger: kafka.logger)
        var consumed = 0
        var consumeStart: ContinuousClock.Instant?
        let expected = messages + 1
        // The development broker drops all but the last ~5 MB of a partition; rather than wait
        // forever for dropped records, give up when nothing arrives for 15 s.
        let progress = ProgressWatchdog()
        let watchdog = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                if progress.stalled(for: .seconds(15)) {
                    try await consumer.close()
                    return
                }
            }
        }
        defer { watchdog.cancel() }
        while consumed < expected {
            let batch = try await consumer.poll(max: 1000)
            if batch.isEmpty {
                throw ValidationError(
                    "consumed \(consumed) of \(expected) records; the development broker keeps only about 5 MB per "
                        + "partition, use fewer --messages")
            }
            for event in batch {
                guard case .record = event else { continue }
                if consumeStart == nil { consumeStart = ContinuousClock.now }
                consumed += 1
            }
            progress.advanced()
        }
        let consumeSeconds = (ContinuousClock.now - consumeStart!).timeInterval
        try await consumer.close()

        print("messages \(messages)")
        print("value_bytes \(size)")
        print("produce_seconds \(format(produceSeconds))")
        print("produce_msgs_per_s \(Int(Double(messages) / produceSeconds))")
        print("consume_seconds \(format(consumeSeconds))")
        print("consume_msgs_per_s \(Int(Double(expected - 1) / consumeSeconds))")
    }

    private func format(_ value: Double) -> String { String(format: "%.3f", value) }
}

final class ProgressWatchdog: Sendable {
    private let last = Mutex(ContinuousClock.now)
    func advanced() { last.withLock { $0 = ContinuousClock.now } }
    func stalled(for duration: Duration) -> Bool { last.withLock { ContinuousClock.now - $0 > duration } }
}

struct SLABench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "Time first-response deadline computations on one core; optionally write inputs and results for comparison.")

    @Option(help: "Inputs (random instants in 2026–2027 with random severities).")
    var count: Int = 100_000

    @Option(help: "Timed passes over the inputs.")
    var passes: Int = 20

    @Option(help: "Write `local-start<TAB>hours<TAB>local-due` lines (America/Denver wall time) for inputs whose span has no DST change.")
    var out: String?

    @Option(help: "Policy YAML (default: built-in).")
    var policy: String?

    func run() async throws {
        let policy = try policy.map { try SLAPolicy.load(file: $0) } ?? .standard
        var generator = SeededRandom(seed: 20_261_126)
        let inputs = (0..<count).map { _ in
            (Date(timeIntervalSince1970: Double(1_767_225_600 + Int64(generator.next() % 63_072_000))),
             Severity.allCases[Int(generator.next() % 3)])
        }
        var checksum = 0.0
        let start = ContinuousClock.now
        for _ in 0..<passes {
            for (opened, severity) in inputs {
                checksum += policy.firstResponseDue(severity: severity, openedAt: opened).timeIntervalSince1970
            }
        }
        let seconds = (ContinuousClock.now - start).timeInterval
        print("due_computations \(count * passes)")
        print("due_per_second \(Int(Double(count * passes) / seconds))")
        print("ns_per_due \(Int(seconds * 1e9 / Double(count * passes)))")
        print("checksum \(Int64(checksum) % 1_000_000)")

        guard let out else { return }
        let calendar = policy.calendar
        var lines = [String]()
        for (opened, severity) in inputs {
            let due = policy.firstResponseDue(severity: severity, openedAt: opened)
            let start = calendar.local(opened)
            let end = calendar.local(due)
            // Comparable libraries have no time zones: keep spans without a clock change.
            guard start.utcOffset == end.utcOffset, due.timeIntervalSince(opened) < 20 * 86_400 else { continue }
            let hours = policy.target(for: severity).firstResponse.components.seconds / 3600
            lines.append("\(wallClock(start))\t\(hours)\t\(wallClock(end))")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: out, atomically: true, encoding: .utf8)
        print("comparable_inputs \(lines.count)")
    }

    private func wallClock(_ local: (date: LocalDate, secondOfDay: Int64, utcOffset: Int64)) -> String {
        let s = local.secondOfDay
        return "\(local.date) " + String(format: "%02d:%02d:%02d", Int(s / 3600), Int(s % 3600 / 60), Int(s % 60))
    }
}

/// A small deterministic generator, so benchmark inputs are the same on every run.
extension Array where Element == Double {
    /// The value at quantile `p` (0...1, nearest rank) of the values; nil when there are none.
    func percentile(_ p: Double) -> Double? {
        guard !isEmpty else { return nil }
        let sorted = self.sorted()
        return sorted[Swift.min(count - 1, Int(Double(count) * p))]
    }
}

struct ClassifyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Time the classifier on one core with ~2 KB descriptions.")

    @Option(help: "A labelled corpus whose tickets are used (descriptions padded to --size bytes).")
    var corpus: String = "Tests/Fixtures/classifier-dev.jsonl"

    @Option(help: "Description size in bytes.")
    var size: Int = 2048

    @Option(help: "Classifications to time.")
    var count: Int = 200_000

    func run() async throws {
        let filler = " The customer adds that they first noticed the behaviour after the weekly maintenance window, "
            + "checked the network, cleared caches, asked colleagues in two offices, and attached screenshots and logs."
        var inputs = [ClassifierInput]()
        for line in try String(contentsOfFile: corpus, encoding: .utf8).split(separator: "\n") {
            guard case .object(let members)? = try? JSONParser.parse(Array(line.utf8)), let ticket = members["ticket"],
                case .opened(let opened)? = try? InboundMessage.decode(ticket, defaultKind: .opened)
            else { continue }
            var input = ClassifierInput(opened)
            var description = input.description ?? ""
            while description.utf8.count < size { description += filler }
            input.description = String(description.utf8.prefix(size))!
            inputs.append(input)
        }
        guard !inputs.isEmpty else { throw ValidationError("no tickets in \(corpus)") }
        let classifier = Classifier()
        var critical = 0
        let start = ContinuousClock.now
        for index in 0..<count where classifier.classify(inputs[index % inputs.count]).severity == .critical {
            critical += 1
        }
        let seconds = (ContinuousClock.now - start).timeInterval
        print("classifications \(count)")
        print("description_bytes \(size)")
        print("classifications_per_second \(Int(Double(count) / seconds))")
        print("critical \(critical)")
    }
}

/// Publishes records in chunks of `chunk`, keeping `inFlight` publish calls outstanding.
func publishInChunks(_ records: [OutgoingRecord], with producer: some RecordPublisher, chunk: Int, inFlight: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var starts = stride(from: 0, to: records.count, by: chunk).makeIterator()
        func addNext() -> Bool {
            guard let start = starts.next() else { return false }
            let slice = Array(records[start..<min(start + chunk, records.count)])
            group.addTask { _ = try await producer.publish(slice) }
            return true
        }
        for _ in 0..<inFlight where !addNext() { break }
        while try await group.next() != nil { _ = addNext() }
    }
}
