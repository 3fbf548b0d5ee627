import ArgumentParser
import Foundation
import HelpdeskModel
import KafkaTransport
import MessageBus
import ServiceRuntime
import Synchronization

/// `helpdesk bench pipeline`: against running services, the throughput of `tickets.inbound` →
/// `tickets.received` (intake alone) or → `sla.started` (intake, classifier and sla-timer), then
/// latency at a fixed fraction of that rate.
struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Measure inbound → received (or → sla.started) throughput and latency through running services, or notifications → delivered through a notifier.")

    enum Stage: String, ExpressibleByArgument {
        case received, started, delivered
        var topic: String {
            switch self {
            case .received: Topics.received
            case .started: Topics.slaEvents
            case .delivered: Topics.notificationsDelivered
            }
        }
        var eventType: String? {
            switch self {
            case .received: nil
            case .started: SLAStarted.type
            case .delivered: NotificationDelivered.type
            }
        }
    }

    @Option(help: "Where a ticket has arrived: received (intake), started (its first-response clock), or delivered (a notification about it, published to notifications, delivered by a notifier on one channel).")
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

    @Option(parsing: .upToNextOption,
            help: "Processes whose CPU time per ticket to report for each phase, as name=pid (Linux /proc).")
    var cpuOf: [ProcessCPU] = []

    func validate() throws {
        guard tickets > 0, warmup >= 0, seconds > 0 else { throw ValidationError("--tickets and --seconds must be positive, --warmup not negative") }
    }

    func run() async throws {
        let configuration = kafka.configuration
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let arrivals = Arrivals(eventType: until.eventType)
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
        // The named processes, and this client, which shares the cores with them.
        let watched = cpuOf.isEmpty ? [] : cpuOf + [ProcessCPU(name: "benchmark-client", pid: getpid())]

        if warmup > 0 {
            let records = (0..<warmup).map { ticket(run: run, index: $0, expectedBy: arrivals).record }
            try await publishInChunks(records, with: producer, chunk: 2_000, inFlight: 8)
            try await arrivals.wait(for: warmup, timeout: .seconds(120))
        }

        // Throughput: everything at once, pipelined.
        let records = (warmup..<warmup + tickets).map { ticket(run: run, index: $0, expectedBy: arrivals).record }
        let cpuBeforeBurst = watched.map(\.seconds)
        let start = ContinuousClock.now
        try await publishInChunks(records, with: producer, chunk: 2_000, inFlight: 8)
        try await arrivals.wait(for: warmup + tickets, timeout: .seconds(120))
        let elapsed = arrivals.lastArrival! - start
        let throughput = Double(tickets) / elapsed.timeInterval
        let cpuAfterBurst = watched.map(\.seconds)

        // Latency at a fixed rate below the peak. Each ticket's latency counts from when it was
        // due, not from when the client got round to sending it: a client that falls behind
        // (it shares the cores) must not hide the delay. What fell due since the last turn goes
        // out in one publish, which keeps the client's own CPU small.
        let rate = max(1, self.rate ?? throughput * load)
        let interval = Duration.seconds(1 / rate)
        let count = Int(rate * Double(seconds))
        let latency = (0..<count).map { ticket(run: run, index: warmup + tickets + $0, expectedBy: arrivals) }
        let cpuBeforeSteady = watched.map(\.seconds)
        let latencyStart = ContinuousClock.now
        var sent = [String: ContinuousClock.Instant]()
        var inFlight = [Task<Void, any Error>]()
        var next = 0
        while next < count {
            let due = min(count, Int((ContinuousClock.now - latencyStart) / interval) + 1)
            guard due > next else {
                try await Task.sleep(until: latencyStart + interval * next)
                continue
            }
            for index in next..<due { sent[latency[index].ticketId] = latencyStart + interval * index }
            let batch = latency[next..<due].map(\.record)
            inFlight.append(Task { _ = try await producer.publish(batch) })
            next = due
            if inFlight.count > 1000 { for task in inFlight { try await task.value }; inFlight.removeAll() }
        }
        for task in inFlight { try await task.value }
        try await arrivals.wait(for: warmup + tickets + count, timeout: .seconds(120))
        let cpuAfterLatency = watched.map(\.seconds)
        await producer.close()
        reader.cancel()
        try await consumer.close()

        var latencies = [Double]()
        for (ticketId, sentAt) in sent {
            guard let arrived = arrivals.arrival(of: ticketId) else { continue }
            latencies.append((arrived - sentAt).timeInterval * 1000)
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies.percentile(p) ?? 0 }
        print("tickets \(tickets)")
        print("throughput_per_s \(Int(throughput))")
        print("latency_rate_per_s \(Int(rate))")
        print("latency_samples \(latencies.count)")
        print("latency_p50_ms \(String(format: "%.1f", percentile(0.50)))")
        print("latency_p99_ms \(String(format: "%.1f", percentile(0.99)))")
        print("latency_max_ms \(String(format: "%.1f", latencies.last ?? 0))")
        // CPU per ticket while the burst was handled, and at the latency phase's steady rate
        // ("-" for a process that was gone when asked).
        func perTicket(_ before: Double?, _ after: Double?, _ count: Int) -> String {
            guard let before, let after else { return "-" }
            return String(Int(((after - before) / Double(count) * 1e6).rounded()))
        }
        for (index, process) in watched.enumerated() {
            print("cpu_us_per_ticket \(process.name) \(perTicket(cpuBeforeBurst[index], cpuAfterBurst[index], tickets)) "
                + perTicket(cpuBeforeSteady[index], cpuAfterLatency[index], count))
        }
    }

    /// The padding that gives a benchmark ticket about 330 bytes, as kcat's records in bench-pipeline.sh.
    static let description = String(repeating: "d", count: 120)

    /// A benchmark ticket, and the id its events carry in `ce_subject`, which `arrivals` now waits for.
    private func ticket(run: String, index: Int, expectedBy arrivals: Arrivals) -> (record: OutgoingRecord, ticketId: String) {
        let externalId = "B\(run)-\(index)"
        if until == .delivered {
            let ticketId = TicketID(source: "bench", externalId: externalId)
            arrivals.expect(ticketId.rawValue)
            let notification = HelpdeskModel.Notification(
                audience: .supportLead, kind: .slaWarning, severity: .major, subject: "First response due soon: \(externalId)",
                text: Self.description, causedBy: EventID.derive(["bench", externalId]))
            return (.notification(notification, ticketId: ticketId, source: "bench", externalId: externalId, at: Date(),
                                  producer: "bench"), ticketId.rawValue)
        }
        let body = #"{"type":"ticket.opened","source":"bench","externalId":"\#(externalId)","organizationId":"acme","subject":"Benchmark ticket \#(index)","description":"\#(Self.description)","impact":{"usersAffected":"few","workaround":"temporary"}}"#
        let ticketId = TicketID(source: "bench", externalId: externalId).rawValue
        arrivals.expect(ticketId)
        return (OutgoingRecord(topic: Topics.inbound, key: "bench/\(externalId)", value: Array(body.utf8)), ticketId)
    }
}

/// When each benchmark ticket arrived (its first event of the awaited type), read from the
/// CloudEvents headers (`ce_type`, `ce_subject`) without parsing the event: the client shares
/// the cores with what it measures.
final class Arrivals: Sendable {
    private struct State {
        var assigned = false
        var expected = Set<String>()
        var times: [String: ContinuousClock.Instant] = [:]
        var last: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let eventType: String?

    init(eventType: String?) {
        self.eventType = eventType
    }

    var assigned: Bool { state.withLock { $0.assigned } }
    var lastArrival: ContinuousClock.Instant? { state.withLock { $0.last } }
    func markAssigned() { state.withLock { $0.assigned = true } }
    func expect(_ ticketId: String) { _ = state.withLock { $0.expected.insert(ticketId) } }
    func arrival(of ticketId: String) -> ContinuousClock.Instant? { state.withLock { $0.times[ticketId] } }

    func arrived(_ record: ConsumerRecord, at now: ContinuousClock.Instant) {
        guard let ticketId = record.headers.string(for: "ce_subject"),
            eventType.map({ $0 == record.headers.string(for: "ce_type") }) ?? true
        else { return }
        state.withLock { state in
            if state.expected.contains(ticketId), state.times[ticketId] == nil {
                state.times[ticketId] = now
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

/// A process's CPU time (user and system) so far, read from `/proc/<pid>/stat`.
struct ProcessCPU: ExpressibleByArgument {
    let name: String
    let pid: Int32

    init(name: String, pid: Int32) {
        self.name = name
        self.pid = pid
    }

    /// `name=pid`.
    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let pid = Int32(parts[1]) else { return nil }
        self.init(name: parts[0], pid: pid)
    }

    var seconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name: state, then fields 4… ; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
