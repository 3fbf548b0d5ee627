import ArgumentParser
import Foundation
import KafkaTransport
import MessageBus
import Synchronization

/// `helpdesk bench`: measurements printed as `name value` lines for scripts/bench to tabulate.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks.", subcommands: [TransportBench.self])
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
        try await withThrowingTaskGroup(of: Void.self) { group in
            var chunks = stride(from: 0, to: records.count, by: batch).makeIterator()
            func addNext() -> Bool {
                guard let start = chunks.next() else { return false }
                let chunk = Array(records[start..<min(start + batch, records.count)])
                group.addTask { _ = try await producer.publish(chunk) }
                return true
            }
            for _ in 0..<inFlight where !addNext() { break }
            while try await group.next() != nil { _ = addNext() }
        }
        let produceSeconds = seconds(ContinuousClock.now - produceStart)
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
        let consumeSeconds = seconds(ContinuousClock.now - consumeStart!)
        try await consumer.close()

        print("messages \(messages)")
        print("value_bytes \(size)")
        print("produce_seconds \(format(produceSeconds))")
        print("produce_msgs_per_s \(Int(Double(messages) / produceSeconds))")
        print("consume_seconds \(format(consumeSeconds))")
        print("consume_msgs_per_s \(Int(Double(expected - 1) / consumeSeconds))")
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func format(_ value: Double) -> String { String(format: "%.3f", value) }
}

final class ProgressWatchdog: Sendable {
    private let last = Mutex(ContinuousClock.now)
    func advanced() { last.withLock { $0 = ContinuousClock.now } }
    func stalled(for duration: Duration) -> Bool { last.withLock { ContinuousClock.now - $0 > duration } }
}
