import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import SLATimerService

func at(_ text: String) -> Date { ISO8601.parse(text)! }

/// Input events for one ticket, as the classifier and intake publish them.
struct TicketInputs {
    let source = "crm"
    let externalId: String
    var ticketId: TicketID { TicketID(source: source, externalId: externalId) }

    init(_ externalId: String) { self.externalId = externalId }

    func classified(_ severity: Severity, openedAt: Date, at seen: Date? = nil) -> OutgoingRecord {
        record(Topics.classified, emitter: "classifier", cause: "received/\(externalId)", at: seen ?? openedAt,
               TicketClassified(severity: severity, signals: [], confidence: 0.9, reportedSeverity: nil,
                                disagreesWithReporter: false, needsDedicatedContact: false, openedAt: openedAt))
    }

    func agentReply(at time: Date, isPublic: Bool = true, role: AuthorRole = .agent) -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "reply/\(ISO8601.format(time))/\(role)/\(isPublic)", at: time,
               TicketMessagePosted(author: Author(role: role, email: "sam@support.example"), isPublic: isPublic,
                                   body: "Looking into it.", cc: [], sentAt: time))
    }

    func severityChanged(to severity: Severity, at time: Date) -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "severity/\(ISO8601.format(time))", at: time,
               TicketSeverityChanged(severity: severity, changedBy: "sam@support.example", reason: "re-prioritized", changedAt: time))
    }

    func statusChanged(to status: TicketStatus, at time: Date) -> OutgoingRecord {
        record(Topics.activity, emitter: "intake", cause: "status/\(ISO8601.format(time))", at: time,
               TicketStatusChanged(status: status, changedAt: time))
    }

    private func record<P: EventPayload>(_ topic: String, emitter: String, cause: String, at time: Date, _ payload: P) -> OutgoingRecord {
        OutgoingRecord(
            event: Event(emittedBy: emitter, causedBy: cause, ticketId: ticketId, source: source, externalId: externalId,
                         at: time, payload: payload),
            topic: topic, producer: emitter)
    }
}

/// Feeds records to a partition state as the loop would, with increasing offsets per topic.
final class PartitionDriver {
    let state: SLATimerPartition
    private var offsets: [String: Int64] = [:]

    init(policy: SLAPolicy = .standard, metrics: SLATimerMetrics = SLATimerMetrics()) {
        state = SLATimerPartition(partition: 0, policy: policy, metrics: metrics)
    }

    func handle(_ record: OutgoingRecord) throws -> [OutgoingRecord] {
        let offset = offsets[record.topic, default: 0]
        offsets[record.topic] = offset + 1
        return try state.handle(consumed(record, offset: offset)).records
    }

    func fire(_ now: Date) -> [OutgoingRecord] { state.fire(now: now).records }
}

func consumed(_ record: OutgoingRecord, offset: Int64, partition: Int32 = 0) -> ConsumerRecord {
    ConsumerRecord(topic: record.topic, partition: partition, offset: offset, key: record.key, value: record.value,
                   headers: record.headers, timestamp: Date(timeIntervalSince1970: 0))
}

extension OutgoingRecord {
    var eventType: String? { headers.string(for: "ce_type") }
    var envelope: EventEnvelope { try! WireJSON.decode(EventEnvelope.self, from: value!) }
}

extension ConsumerRecord {
    var eventType: String? { headers.string(for: "ce_type") }
    var envelope: EventEnvelope { try! WireJSON.decode(EventEnvelope.self, from: value!) }
}

func types(_ records: [OutgoingRecord]) -> [String] { records.map { "\($0.topic):\($0.eventType ?? "?")" } }
