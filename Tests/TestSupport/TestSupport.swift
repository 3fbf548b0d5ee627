import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import Synchronization

// What the service test suites share: input events as the other services publish them,
// records as a consumer sees them, a publisher that "crashes", and waiting without sleeps.

public func at(_ text: String) -> Date { ISO8601.parse(text)! }

/// Input events for one ticket, as the classifier and intake publish them.
public struct TicketInputs: Sendable {
    public let source = "crm"
    public let externalId: String
    public var ticketId: TicketID { TicketID(source: source, externalId: externalId) }

    public init(_ externalId: String) { self.externalId = externalId }

    public func classified(
        _ severity: Severity, openedAt: Date, at seen: Date? = nil, assignee: String? = nil, requester: String? = nil,
        plan: String? = nil
    ) -> OutgoingRecord {
        record(Topics.classified, emitter: "classifier", cause: "received/\(externalId)", at: seen ?? openedAt,
               TicketClassified(severity: severity, signals: [], confidence: 0.9, reportedSeverity: nil,
                                disagreesWithReporter: false, needsDedicatedContact: false, openedAt: openedAt,
                                assignee: assignee, requesterEmail: requester, plan: plan))
    }

    /// The ticket (re)assigned to an agent.
    public func assigned(to assignee: String, at time: Date) -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "assigned/\(assignee)/\(ISO8601.format(time))", at: time,
               TicketAssigned(assignee: assignee, assignedBy: nil, assignedAt: time))
    }

    public func agentReply(at time: Date, isPublic: Bool = true, role: AuthorRole = .agent) -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "reply/\(ISO8601.format(time))/\(role)/\(isPublic)", at: time,
               TicketMessagePosted(author: Author(role: role, email: "sam@support.example"), isPublic: isPublic,
                                   body: "Looking into it.", cc: [], sentAt: time))
    }

    public func severityChanged(to severity: Severity, at time: Date) -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "severity/\(ISO8601.format(time))", at: time,
               TicketSeverityChanged(severity: severity, changedBy: "sam@support.example", reason: "re-prioritized", changedAt: time))
    }

    /// A customer's message; `cc` may hold the escalation address.
    public func customerMessage(at time: Date, cc: [String], email: String = "it-admin@acme.test") -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "customer/\(ISO8601.format(time))/\(cc.joined(separator: ","))", at: time,
               TicketMessagePosted(author: Author(role: .customer, email: email), isPublic: true,
                                   body: "Please escalate this.", cc: cc, sentAt: time))
    }

    /// The sla-timer's breach of the ticket's first-response deadline.
    public func breached(
        _ severity: Severity, dueAt: Date, metric: SLAMetric = .firstResponse, instance: Int? = nil, plan: String? = nil
    ) -> OutgoingRecord {
        record(Topics.slaEvents, emitter: "sla-timer", cause: metric == .firstResponse
                   ? "deadline/\(ISO8601.format(dueAt))" : "deadline/\(metric.rawValue)/\(instance ?? 0)/\(ISO8601.format(dueAt))",
               at: dueAt, SLABreached(metric: metric, instance: instance, plan: plan, severity: severity, dueAt: dueAt))
    }

    public func statusChanged(to status: TicketStatus, at time: Date) -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "status/\(ISO8601.format(time))", at: time,
               TicketStatusChanged(status: status, changedAt: time))
    }

    public func record<P: EventPayload>(_ topic: String, emitter: String, cause: String, at time: Date, _ payload: P) -> OutgoingRecord {
        OutgoingRecord(
            event: Event(emittedBy: emitter, causedBy: cause, ticketId: ticketId, source: source, externalId: externalId,
                         at: time, payload: payload),
            topic: topic, producer: emitter)
    }
}

/// Feeds records to a partition state as the loop would, with increasing offsets per topic.
public final class PartitionDriver<State: PartitionState> {
    public let state: State
    /// The partition's own firing gates, as the loop runs them (input completeness aside).
    public private(set) var gates: [any FiringGate]
    private var offsets: [String: Int64] = [:]

    public init(_ state: State, gates: [any FiringGate] = []) {
        self.state = state
        self.gates = gates
    }

    /// `publishedAt` is the record's broker timestamp: when its producer published it.
    public func handle(_ record: OutgoingRecord, publishedAt: Date = Date(timeIntervalSince1970: 0)) throws -> [OutgoingRecord] {
        let offset = offsets[record.topic, default: 0]
        offsets[record.topic] = offset + 1
        let input = consumed(record, offset: offset, publishedAt: publishedAt)
        let effects = try state.handle(input)
        for index in gates.indices { gates[index].read(input, eventTime: effects.eventTime) }
        return effects.records
    }

    /// Fires what is due at `now`, as far as the gates let it.
    public func fire(_ now: Date) -> [OutgoingRecord] {
        state.fire(now: gates.reduce(now) { min($0, $1.limit(now: now)) }).records
    }

    /// When the next deadline may fire if no more input arrives.
    public var nextWake: Date? {
        state.nextDeadline.map { deadline in gates.reduce(deadline) { max($0, $1.wakeAt(for: deadline, now: deadline) ?? .distantFuture) } }
    }
}

public func consumed(
    _ record: OutgoingRecord, offset: Int64, partition: Int32 = 0, publishedAt: Date = Date(timeIntervalSince1970: 0)
) -> ConsumerRecord {
    ConsumerRecord(topic: record.topic, partition: partition, offset: offset, key: record.key, value: record.value,
                   headers: record.headers, timestamp: publishedAt)
}

extension OutgoingRecord {
    public var eventType: String? { headers.string(for: "ce_type") }
    public var envelope: EventEnvelope { try! WireJSON.decode(EventEnvelope.self, from: value!) }
}

extension ConsumerRecord {
    public var eventType: String? { headers.string(for: "ce_type") }
    public var envelope: EventEnvelope { try! WireJSON.decode(EventEnvelope.self, from: value!) }
}

public func types(_ records: [OutgoingRecord]) -> [String] { records.map { "\($0.topic):\($0.eventType ?? "?")" } }

/// A publisher that dies at its `crashAt`-th call: the records reach the broker, and then the
/// process "dies" (the loop is cancelled before it can do anything else). With `partially`, only
/// the first half (rounded up) of each partition's records of that call reach the broker, as when
/// a flush goes out in several requests and the process dies after the first.
public final class CrashingPublisher: RecordPublisher {
    let inner: any RecordPublisher
    let crashAt: Int
    let partially: Bool
    private let calls = Atomic<Int>(0)

    public init(_ inner: any RecordPublisher, crashAt: Int, partially: Bool = false) {
        self.inner = inner
        self.crashAt = crashAt
        self.partially = partially
    }

    public func publish(_ records: [OutgoingRecord]) async throws -> [DeliveryReceipt] {
        guard calls.add(1, ordering: .relaxed).newValue == crashAt else { return try await inner.publish(records) }
        if partially {
            var perPartition = [String: [OutgoingRecord]]()
            for record in records { perPartition["\(record.topic)/\(record.partition ?? -1)", default: []].append(record) }
            let firstHalves = records.filter { record in
                let group = perPartition["\(record.topic)/\(record.partition ?? -1)"]!
                return group.firstIndex(of: record)! < (group.count + 1) / 2
            }
            _ = try await inner.publish(firstHalves)
        } else {
            _ = try await inner.publish(records)
        }
        throw CancellationError()
    }

    public func close() async {}
}

/// Waits (with a real-time guard against hangs) until the condition holds.
public func eventually(_ what: String, within limit: Duration = .seconds(20), _ condition: @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while !(await condition()) {
        guard ContinuousClock.now < deadline else { throw HarnessTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

public struct HarnessTimeout: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}


/// An API sink over the in-memory broker that can be made unreachable or failing.
public final class TestSink: AcknowledgedSink {
    public init() {}

    public let broker = InMemoryBroker(defaultPartitions: 6)
    public let reachable = Mutex(true)
    public let failing = Mutex(false)

    public var isAvailable: Bool { reachable.withLock { $0 } }

    public func write(_ record: OutgoingRecord) async throws -> DeliveryReceipt {
        if failing.withLock({ $0 }) { throw BusError.deliveryFailed(topic: record.topic, reason: "Local: Message timed out") }
        return try await broker.makePublisher().publish(record)
    }
}

public func member(_ value: JSONValue, _ key: String) -> JSONValue? {
    if case .object(let members) = value { return members[key] }
    return nil
}


/// Runs CPU-heavy test work (seconds of classifying, a model fit) on a dispatch thread, so that
/// it does not hold the cooperative pool's few threads while other suites' loops need them.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        cpuBound.async { continuation.resume(with: Result { try body() }) }
    }
}

/// For CPU-bound loops that must stay on the cooperative pool (their body awaits or records
/// expectations): `yieldIfDue()` yields every 10 ms, so the pool's few threads take turns with
/// other suites' loops instead of being held for seconds.
public struct PoolShare {
    private var last = ContinuousClock.now

    public init() {}

    public mutating func yieldIfDue() async {
        guard ContinuousClock.now - last > .milliseconds(10) else { return }
        await Task.yield()
        last = ContinuousClock.now
    }
}

/// One CPU-bound test job at a time: on two cores, several at once left the cooperative pool
/// too little CPU, and in-memory loop tests timed out waiting to start.
private let cpuBound = DispatchQueue(label: "tests.cpu-bound")

/// Runs a built service's group until `body` returns: waits until `/readyz` would pass, then
/// shuts the group down gracefully and waits for it, also when `body` throws.
public func withRunningService(_ service: BuiltService, _ what: String, _ body: () async throws -> Void) async throws {
    let group = service.group, readiness = service.readiness
    let running = Task { try await group.run() }
    do {
        // Joining a group takes a rebalance; on a loaded two-core machine, tens of seconds.
        try await eventually(what, within: .seconds(60)) { readiness.failing().isEmpty }
        try await body()
    } catch {
        FileHandle.standardError.write(Data("the test failed, shutting down: \(error)\n".utf8))
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        throw error
    }
    await group.triggerGracefulShutdown()
    try await running.value
}
