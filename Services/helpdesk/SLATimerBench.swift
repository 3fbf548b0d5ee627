import ArgumentParser
import Foundation
import Synchronization
import HelpdeskModel
import KafkaTransport
import Logging
import MessageBus
import ServiceRuntime
import SLATimerService

#if canImport(Glibc)
import Glibc
#endif

/// `helpdesk bench sla-timer`: memory per open clock, restore rate from the changelog, and
/// timer firing lag under load, with the sla-timer's own code.
struct SLATimerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla-timer",
        abstract: "Measure the sla-timer: bytes per open clock, changelog restore rate, timer firing lag.")

    @Option(help: "Open clocks for the memory measurement.")
    var clocks: Int = 1_000_000

    @Option(help: "Changelog records to restore (the embedded broker keeps ~5 MB per partition: keep it under ~14,000 per partition).")
    var restoreRecords: Int = 72_000

    @Option(help: "Tickets whose warnings and breaches are timed.")
    var timerTickets: Int = 6_000

    @Option(help: "Which measurements: memory, fire, restore, lag (comma-separated).")
    var only: String = "memory,fire,restore,lag"

    @Flag(help: "Run every metric (next reply, periodic updates, resolution) beside the first response: each ticket is answered once and the customer writes back, so three clocks run per ticket.")
    var allMetrics = false

    /// Business hours with every metric, for the memory figure.
    static let allMetricsPolicy = try! SLAPolicy.load(yaml: """
        severities:
          critical: { nextReply: { target: 2h }, periodicUpdate: { target: 1h }, resolution: { target: 8h } }
          major:    { nextReply: { target: 4h }, periodicUpdate: { target: 4h }, resolution: { target: 16h } }
          minor:    { nextReply: { target: 8h }, periodicUpdate: { target: 8h }, resolution: { target: 40h } }
        """)

    static let partitions = 6

    func run() async throws {
        let selected = Set(only.split(separator: ",").map(String.init))
        if selected.contains("memory") { try measureMemory() }
        if selected.contains("fire") { try measureFire() }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        if selected.contains("restore") || selected.contains("lag") {
            let cluster = try MockKafkaCluster(brokers: 1, logger: logger)
            defer { cluster.shutdown() }
            let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, ["fetch.wait.max.ms": "10"])
            let bus = KafkaBus(configuration: configuration, logger: logger)
            for topic in [Topics.classified, Topics.activity, Topics.slaEvents, Topics.slaTimerChangelog, Topics.notifications,
                          "bench.changelog"] {
                try cluster.createTopic(topic, partitions: Self.partitions)
            }
            if selected.contains("restore") { try await measureRestore(bus: bus, logger: logger) }
            if selected.contains("lag") { try await measureLag(bus: bus, logger: logger) }
        }
    }

    // MARK: fire

    /// The CPU cost of firing one ticket's timer (clock transition, events and notifications
    /// encoded, ids derived), without a broker: 20,000 warnings due at the same instant.
    private func measureFire() throws {
        let state = SLATimerPartition(partition: 0, policy: .standard, metrics: SLATimerMetrics())
        let opened = ISO8601.parse("2026-03-09T16:00:00Z")!
        let tickets = 20_000
        for index in 0..<tickets {
            let externalId = "FIRE-\(index)"
            let event = Event(eventId: EventID.derive(["fire", String(index)]), ticketId: TicketID(source: "crm", externalId: externalId),
                              source: "crm", externalId: externalId, at: opened,
                              payload: TicketClassified(severity: .critical, signals: [], confidence: 1, reportedSeverity: nil,
                                                        disagreesWithReporter: false, needsDedicatedContact: false, openedAt: opened))
            let record = OutgoingRecord(event: event, topic: Topics.classified, producer: "bench")
            _ = try state.handle(ConsumerRecord(topic: record.topic, partition: 0, offset: Int64(index), key: record.key,
                                                value: record.value, headers: record.headers, timestamp: opened))
        }
        let due = state.nextDeadline!
        let start = ContinuousClock.now
        let effects = state.fire(now: due)
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.timeInterval
        print("fire_tickets \(tickets)")
        print("fire_records \(effects.records.count)")
        print("fire_us_per_ticket \(String(format: "%.1f", seconds / Double(tickets) * 1e6))")
    }

    // MARK: memory

    private func measureMemory() throws {
        let metrics = SLATimerMetrics()
        let policy = allMetrics ? Self.allMetricsPolicy : .standard
        let states = (0..<Self.partitions).map { SLATimerPartition(partition: Int32($0), policy: policy, metrics: metrics) }
        // Opened on a Monday morning: every clock is running.
        let opened = ISO8601.parse("2026-03-02T16:00:00Z")!
        trimHeap()
        let baseline = residentBytes()
        let chunk = 20_000
        var made = 0
        while made < clocks {
            let count = min(chunk, clocks - made)
            let records = (made..<made + count).map { classifiedRecord(index: $0, openedAt: opened) }
            for (offset, record) in records.enumerated() {
                let state = states[(made + offset) % Self.partitions]
                _ = try state.handle(record)
                if allMetrics {
                    for input in Self.conversation(index: made + offset, openedAt: opened) { _ = try state.handle(input) }
                }
            }
            made += count
        }
        trimHeap()
        let after = residentBytes()
        let open = Severity.allCases.map { metrics.openClocks($0) }.reduce(0, +)
            + [SLAMetric.nextReply, .periodicUpdate, .resolution].map { metrics.openClocks($0) }.reduce(0, +)
        print("memory_open_clocks \(open)")
        print("memory_bytes_per_open_clock \((after - baseline) / max(1, open))")
        print("memory_bytes_per_ticket \((after - baseline) / max(1, clocks))")
        print("memory_rss_mib \(after / 1_048_576)")
        withExtendedLifetime(states) {}
    }

    /// The first response a minute after the opening, and the customer's answer a minute later:
    /// the first-response clock met; resolution, periodic update and next reply running.
    static func conversation(index: Int, openedAt: Date) -> [ConsumerRecord] {
        let externalId = index < 0 ? "LAG-\(-index - 1)" : "CRM-\(index)"
        let ticket = TicketID(source: "crm", externalId: externalId)
        return [(AuthorRole.agent, 1.0), (.customer, 2.0)].enumerated().map { position, message in
            let sent = openedAt.addingTimeInterval(message.1 * (index < 0 ? 1 : 60))
            let event = Event(eventId: EventID.derive(["bench-message", externalId, String(position)]), ticketId: ticket, source: "crm",
                              externalId: externalId, at: sent,
                              payload: TicketMessagePosted(author: Author(role: message.0), isPublic: true, body: "…", cc: [], sentAt: sent))
            // Offsets as on tickets.activity: each message after the one before.
            return ConsumerRecord(topic: Topics.activity, partition: 0, offset: Int64(2 * abs(index) + position),
                                  key: Array(ticket.rawValue.utf8),
                                  value: try! WireJSON.encode(event), headers: [], timestamp: sent)
        }
    }

    private func classifiedRecord(index: Int, openedAt: Date) -> ConsumerRecord {
        let externalId = "CRM-\(index)"
        let ticket = TicketID(source: "crm", externalId: externalId)
        let event = Event(eventId: EventID.derive(["bench", String(index)]), ticketId: ticket, source: "crm",
                          externalId: externalId, at: openedAt,
                          payload: TicketClassified(severity: Severity.allCases[index % 3], signals: [], confidence: 1,
                                                    reportedSeverity: nil, disagreesWithReporter: false,
                                                    needsDedicatedContact: false, openedAt: openedAt))
        return ConsumerRecord(topic: Topics.classified, partition: 0, offset: Int64(index), key: nil,
                              value: try! WireJSON.encode(event), headers: [], timestamp: openedAt)
    }

    // MARK: restore

    private func measureRestore(bus: KafkaBus, logger: Logger) async throws {
        let opened = ISO8601.parse("2026-03-02T16:00:00Z")!
        let writer = SLATimerPartition(partition: 0, policy: .standard, metrics: SLATimerMetrics())
        let producer = try KafkaProducer(configuration: bus.configuration, logger: logger)
        var records = [OutgoingRecord]()
        for index in 0..<restoreRecords {
            let record = classifiedRecord(index: index, openedAt: opened)
            _ = try writer.handle(record)
            let key = TicketID(source: "crm", externalId: "CRM-\(index)").rawValue
            records.append(OutgoingRecord(
                topic: "bench.changelog", key: key, value: writer.changelogValue(forKey: key),
                headers: PartitionCheckpoint(inputs: [Topics.classified: Int64(index)], output: Int64(index)).headers,
                partition: Int32(index % Self.partitions)))
            if records.count == 5_000 {
                _ = try await producer.publish(records)
                records.removeAll(keepingCapacity: true)
            }
        }
        _ = try await producer.publish(records)
        await producer.close()

        // Reading alone, then reading and restoring: where the time goes.
        let readStarted = ContinuousClock.now
        var read = 0
        for partition in 0..<Self.partitions {
            _ = try await bus.readPartition(TopicPartition("bench.changelog", Int32(partition)), from: 0) { read += $0.count }
        }
        let readSeconds = (ContinuousClock.now - readStarted).timeInterval
        print("restore_read_only_records_per_s \(Int(Double(read) / readSeconds))")

        // The sla-timer's own restore path: every partition at once, as on an assignment.
        let metrics = SLATimerMetrics()
        let restorer = PartitionRestorer(
            service: "sla-timer", bus: bus, changelog: "bench.changelog", output: Topics.slaEvents,
            settings: ProcessingSettings(), logger: logger,
            makeState: { SLATimerPartition(partition: $0, policy: .standard, metrics: metrics) })
        let started = ContinuousClock.now
        let restored = try await restorer.restore((0..<Int32(Self.partitions)).map { $0 }).map(\.changelogRecords).reduce(0, +)
        let seconds = (ContinuousClock.now - started).timeInterval
        print("restore_records \(restored)")
        print("restore_seconds \(String(format: "%.3f", seconds))")
        print("restore_records_per_s \(Int(Double(restored) / seconds))")
    }

    // MARK: timer lag

    private func measureLag(bus: KafkaBus, logger: Logger) async throws {
        // With every metric, each ticket is answered a second after it opens and the customer
        // writes back a second later: the update period, the reply cycle and the resolution each
        // warn and breach (six timer events a ticket instead of two).
        let further = allMetrics ? """

              critical: { firstResponse: 20s, warnAt: 0.5, nextReply: { target: 22s, warnAt: 0.5 }, periodicUpdate: { target: 21s, warnAt: 0.5 }, resolution: { target: 26s, warnAt: 0.5 } }
              major:    { firstResponse: 24s, warnAt: 0.5, nextReply: { target: 24s, warnAt: 0.5 }, periodicUpdate: { target: 23s, warnAt: 0.5 }, resolution: { target: 28s, warnAt: 0.5 } }
              minor:    { firstResponse: 28s, warnAt: 0.5, nextReply: { target: 26s, warnAt: 0.5 }, periodicUpdate: { target: 25s, warnAt: 0.5 }, resolution: { target: 30s, warnAt: 0.5 } }
            """ : """

              critical: { firstResponse: 20s, warnAt: 0.5 }
              major:    { firstResponse: 24s, warnAt: 0.5 }
              minor:    { firstResponse: 28s, warnAt: 0.5 }
            """
        let policy = try SLAPolicy.load(yaml: """
            timezone: UTC
            hours: { start: "00:00", end: "24:00" }
            days: [sun, mon, tue, wed, thu, fri, sat]
            severities:
            """ + further)
        let producer = try KafkaProducer(configuration: bus.configuration, logger: logger)
        let queries = try bus.makeQueries()
        let handedOver = HandOverTimes()
        let metrics = SLATimerMetrics()
        let joined = ReadinessFlag()
        let loop = StatefulProcessingLoop(
            service: "sla-timer", bus: bus, queries: queries,
            // As the sla-timer runs: deadlines also ask how far intake has got (no intake runs
            // here, so it has always caught up; the figure includes the two requests).
            source: .init(group: "bench-sla-timer", inputs: [Topics.classified, Topics.activity],
                          changelog: Topics.slaTimerChangelog, output: Topics.slaEvents,
                          upstream: SLATimerPartition.upstream,
                          gates: { _ in [LateInputGate(metrics: metrics)] }),
            publisher: TimedPublisher(inner: producer, times: handedOver), settings: ProcessingSettings(), joined: joined, logger: logger,
            makeState: { SLATimerPartition(partition: $0, policy: policy, metrics: metrics) })
        let running = Task { try await loop.run() }
        // Joining the group takes the mock cluster a few seconds; deadlines start after it.
        while !joined.isSet { try await Task.sleep(for: .milliseconds(50)) }

        // Tickets opened over the last three seconds: every warning and breach lies ahead (the
        // first at +7 s, after all inputs are in), spread over 16 distinct seconds, hundreds per second.
        let now = Date()
        var inputs = [OutgoingRecord]()
        for index in 0..<timerTickets {
            let opened = now.addingTimeInterval(-Double(index % 4))
            let externalId = "LAG-\(index)"
            let event = Event(eventId: EventID.derive(["lag", String(index)]), ticketId: TicketID(source: "crm", externalId: externalId),
                              source: "crm", externalId: externalId, at: opened,
                              payload: TicketClassified(severity: Severity.allCases[index % 3], signals: [], confidence: 1,
                                                        reportedSeverity: nil, disagreesWithReporter: false,
                                                        needsDedicatedContact: false, openedAt: opened))
            inputs.append(OutgoingRecord(event: event, topic: Topics.classified, producer: "bench"))
            if allMetrics {
                for record in Self.conversation(index: -index - 1, openedAt: opened) {
                    inputs.append(OutgoingRecord(topic: Topics.activity, key: String(decoding: record.key!, as: UTF8.self),
                                                 value: record.value, headers: []))
                }
            }
        }
        let feeder = try KafkaProducer(configuration: bus.configuration, logger: logger)
        _ = try await feeder.publish(inputs)
        await feeder.close()

        // Every warning and breach: how long after its instant the timer's event was produced.
        var lags = [Double]()
        var positions = [Int32: Int64]()
        let deadline = ContinuousClock.now + .seconds(90)
        let expected = (allMetrics ? 6 : 2) * timerTickets
        while lags.count < expected, ContinuousClock.now < deadline {
            for partition in 0..<Int32(Self.partitions) {
                positions[partition] = try await bus.readPartition(
                    TopicPartition(Topics.slaEvents, partition), from: positions[partition, default: 0]
                ) { batch in
                    for record in batch {
                        guard let type = record.headers.string(for: "ce_type"), type == SLAWarning.type || type == SLABreached.type,
                              let envelope = try? WireJSON.decode(EventEnvelope.self, from: record.value ?? []) else { continue }
                        lags.append(record.timestamp.timeIntervalSince(envelope.at))
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        running.cancel()
        _ = try? await running.value
        await producer.close()
        await queries.close()
        func percentile(_ values: [Double], _ p: Double) -> String {
            values.percentile(p).map { String(format: "%.1f", $0 * 1000) } ?? "n/a"
        }
        let fired = handedOver.lags
        print("lag_timer_events \(lags.count)")
        // Due instant → the event handed to the Kafka client (what the service controls).
        print("lag_fired_p50_ms \(percentile(fired, 0.50))")
        print("lag_fired_p99_ms \(percentile(fired, 0.99))")
        // Due instant → the record's timestamp as stored by the (in-process, CPU-sharing) broker.
        print("lag_p50_ms \(percentile(lags, 0.50))")
        print("lag_p99_ms \(percentile(lags, 0.99))")
        print("lag_max_ms \(percentile(lags, 1.0))")
    }

    // MARK: -

    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Returns freed heap pages to the system (glibc's malloc_trim, looked up at run time),
    /// so resident size counts what is held, not what was once allocated.
    private func trimHeap() {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        }
        #endif
    }
}

/// When each warning and breach was handed to the producer, relative to its due instant.
final class HandOverTimes: Sendable {
    private let recorded = Mutex([Double]())
    var lags: [Double] { recorded.withLock { $0 } }
    func record(_ lags: [Double]) { recorded.withLock { $0 += lags } }
}

/// The loop's publisher, noting when timer events reach it (before anything is sent).
struct TimedPublisher: RecordPublisher {
    let inner: any RecordPublisher
    let times: HandOverTimes

    func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] {
        let now = Date()
        times.record(records.compactMap { record in
            guard let type = record.headers.string(for: "ce_type"), type == SLAWarning.type || type == SLABreached.type,
                  let due = record.headers.string(for: "ce_time").flatMap(ISO8601.parse) else { return nil }
            return now.timeIntervalSince(due)
        })
        return try await inner.publish(records)
    }

    func close() async { await inner.close() }
}
