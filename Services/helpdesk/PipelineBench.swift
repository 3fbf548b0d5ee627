import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import MessageBus
import Synchronization

/// `helpdesk bench pipeline`: against running services, the throughput of `tickets.inbound` →
/// `tickets.received` (intake alone) or → `sla.started` (intake, classifier and sla-timer), then
/// latency at a fixed fraction of that rate.
struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Measure inbound → received (or → sla.started) throughput and latency through running services.")

    enum Stage: String, ExpressibleByArgument {
        case received, started
        var topic: String { self == .received ? Topics.received : Topics.slaEvents }
        var eventType: String? { self == .received ? nil : SLAStarted.type }
    }

    @Option(help: "Where a ticket has arrived: received (intake) or started (its first-response clock).")
    var until: Stage = .received

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Tickets for the throughput phase.")
    var tickets: Int = 20_000

    @Option(help: "Tickets sent and awaited before measuring (connections, groups and caches warm up).")
    var warmup: Int = 2_000

    @Option(help: "Latency phase rate as a fraction of the measured throughput.")
    var load: Double = 0.5

    @Option(help: "Latency phase rate in tickets per second (instead of --load).")
    var rate: Double?

    @Option(help: "Latency phase duration in seconds.")
    var seconds: Int = 10

    func run() async throws {
        let configuration = kafka.configuration
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let arrivals = Arrivals(prefix: "B\(run)-", eventType: until.eventType)
        let consumer = try KafkaConsumer(configuration: configuration, group: "bench-pipeline-\(run)", topics: [until.topic],
                                         logger: kafka.logger)
        // Only records produced after the consumer joined matter: wait for the assignment.
        let reader = Task {
            while !Task.isCancelled {
                let batch = try await consumer.poll(max: 1000)
                if batch.isEmpty { return }
                let now = ContinuousClock.now
                for event in batch {
                    switch event {
                    case .assigned: arrivals.markAssigned()
                    case .record(let record): arrivals.arrived(record, at: now)
                    case .revoked: break
                    }
                }
            }
        }
        defer { reader.cancel() }
        let joinDeadline = ContinuousClock.now + .seconds(30)
        while !arrivals.assigned {
            guard ContinuousClock.now < joinDeadline else { throw ValidationError("the bench consumer did not join its group") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let producer = try KafkaProducer(configuration: configuration, logger: kafka.logger)

        if warmup > 0 {
            try await publishInChunks((0..<warmup).map { ticket(run: run, index: $0) }, with: producer, chunk: 2_000, inFlight: 8)
            try await arrivals.wait(for: warmup, timeout: .seconds(120))
        }

        // Throughput: everything at once, pipelined.
        let start = ContinuousClock.now
        let records = (warmup..<warmup + tickets).map { ticket(run: run, index: $0) }
        try await publishInChunks(records, with: producer, chunk: 2_000, inFlight: 8)
        try await arrivals.wait(for: warmup + tickets, timeout: .seconds(120))
        let elapsed = arrivals.lastArrival! - start
        let throughput = Double(tickets) / elapsed.seconds

        // Latency at a fixed rate below the peak.
        let rate = max(1, self.rate ?? throughput * load)
        let interval = Duration.seconds(1 / rate)
        let count = Int(rate * Double(seconds))
        let latencyStart = ContinuousClock.now
        var sent = [String: ContinuousClock.Instant]()
        var inFlight = [Task<Void, any Error>]()
        for index in 0..<count {
            let due = latencyStart + interval * index
            if due > ContinuousClock.now { try await Task.sleep(until: due) }
            let record = ticket(run: run, index: warmup + tickets + index)
            sent[String(decoding: record.key!, as: UTF8.self)] = ContinuousClock.now
            inFlight.append(Task { _ = try await producer.publish(record) })
            if inFlight.count > 1000 { for task in inFlight { try await task.value }; inFlight.removeAll() }
        }
        for task in inFlight { try await task.value }
        try await arrivals.wait(for: warmup + tickets + count, timeout: .seconds(120))
        await producer.close()
        reader.cancel()
        try await consumer.close()

        var latencies = [Double]()
        for (key, sentAt) in sent {
            let externalId = String(key.split(separator: "/").last!)
            guard let arrived = arrivals.arrival(of: externalId) else { continue }
            latencies.append((arrived - sentAt).seconds * 1000)
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print("tickets \(tickets)")
        print("throughput_per_s \(Int(throughput))")
        print("latency_rate_per_s \(Int(rate))")
        print("latency_samples \(latencies.count)")
        print("latency_p50_ms \(String(format: "%.1f", percentile(0.50)))")
        print("latency_p99_ms \(String(format: "%.1f", percentile(0.99)))")
        print("latency_max_ms \(String(format: "%.1f", latencies.last ?? 0))")
    }

    private func ticket(run: String, index: Int) -> OutgoingRecord {
        let externalId = "B\(run)-\(index)"
        let body = #"{"type":"ticket.opened","source":"bench","externalId":"\#(externalId)","organizationId":"acme","subject":"Benchmark ticket \#(index)","description":"\#(String(repeating: "d", count: 120))","impact":{"usersAffected":"few","workaround":"temporary"}}"#
        return OutgoingRecord(topic: Topics.inbound, key: "bench/\(externalId)", value: Array(body.utf8))
    }
}

/// When each benchmark ticket arrived (its first event of the awaited type).
final class Arrivals: Sendable {
    private struct State {
        var assigned = false
        var times: [String: ContinuousClock.Instant] = [:]
        var last: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let prefix: String
    private let eventType: String?

    init(prefix: String, eventType: String?) {
        self.prefix = prefix
        self.eventType = eventType
    }

    var assigned: Bool { state.withLock { $0.assigned } }
    var lastArrival: ContinuousClock.Instant? { state.withLock { $0.last } }
    func markAssigned() { state.withLock { $0.assigned = true } }
    func arrival(of externalId: String) -> ContinuousClock.Instant? { state.withLock { $0.times[externalId] } }

    func arrived(_ record: ConsumerRecord, at now: ContinuousClock.Instant) {
        guard let value = record.value, let envelope = try? WireJSON.decode(EventEnvelope.self, from: value),
            envelope.externalId.hasPrefix(prefix), eventType.map({ $0 == envelope.type }) ?? true
        else { return }
        state.withLock { state in
            if state.times[envelope.externalId] == nil {
                state.times[envelope.externalId] = now
                state.last = now
            }
        }
    }

    func wait(for count: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while state.withLock({ $0.times.count }) < count {
            guard ContinuousClock.now < deadline else {
                throw ValidationError("only \(state.withLock { $0.times.count }) of \(count) tickets arrived")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
