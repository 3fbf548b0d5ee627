import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime

/// `escalation.events` records: each event with its cause beside its fields (`Caused`).
enum EscalationEventCoding {
    struct Published {
        let record: OutgoingRecord
        let eventId: EventID
        let type: String
    }

    static func record(_ event: Escalation.Event, ticket: TicketEscalation, cause: String, at: Date) -> Published {
        switch event {
        case .requested(let payload): published(payload, ticket: ticket, cause: cause, at: at)
        case .evaluating(let payload): published(payload, ticket: ticket, cause: cause, at: at)
        case .escalated(let payload): published(payload, ticket: ticket, cause: cause, at: at)
        case .conditionRecorded(let payload): published(payload, ticket: ticket, cause: cause, at: at)
        case .deEscalated(let payload): published(payload, ticket: ticket, cause: cause, at: at)
        case .deEscalationRefused(let payload): published(payload, ticket: ticket, cause: cause, at: at)
        }
    }

    static func record<P: EventPayload>(_ payload: P, ticket: TicketEscalation, cause: String, at: Date) -> OutgoingRecord {
        published(payload, ticket: ticket, cause: cause, at: at).record
    }

    static func publishedRecord<P: EventPayload>(_ payload: P, ticket: TicketEscalation, cause: String, at: Date) -> Published {
        published(payload, ticket: ticket, cause: cause, at: at)
    }

    private static func published<P: EventPayload>(_ payload: P, ticket: TicketEscalation, cause: String, at: Date) -> Published {
        let event = Event(emittedBy: EscalationPartition.service, causedBy: cause, ticketId: ticket.ticketId, source: ticket.source,
                          externalId: ticket.externalId, at: at, payload: Caused(payload, causedBy: cause))
        return Published(record: OutgoingRecord(event: event, topic: Topics.escalationEvents, producer: EscalationPartition.service),
                         eventId: event.eventId, type: P.type)
    }

    /// One of our records from `escalation.events`: its envelope, the state machine's event
    /// (nil for a refused command, which changed nothing) and its cause.
    static func decode(_ record: ConsumerRecord) throws -> (EventEnvelope, Escalation.Event?, cause: String) {
        let document = try EventDocument(record.value ?? [])
        let envelope = document.envelope
        func decoded<P: EventPayload>(_: P.Type, _ event: (P) -> Escalation.Event?) throws -> (EventEnvelope, Escalation.Event?, cause: String) {
            let caused = try document.event(Caused<P>.self).payload
            return (envelope, event(caused.payload), caused.causedBy)
        }
        switch envelope.type {
        case EscalationRequested.type: return try decoded(EscalationRequested.self, Escalation.Event.requested)
        case EscalationEvaluating.type: return try decoded(EscalationEvaluating.self, Escalation.Event.evaluating)
        case EscalationEscalated.type: return try decoded(EscalationEscalated.self, Escalation.Event.escalated)
        case EscalationConditionRecorded.type: return try decoded(EscalationConditionRecorded.self, Escalation.Event.conditionRecorded)
        case EscalationDeEscalated.type: return try decoded(EscalationDeEscalated.self, Escalation.Event.deEscalated)
        case EscalationDeEscalationRefused.type: return try decoded(EscalationDeEscalationRefused.self, Escalation.Event.deEscalationRefused)
        case EscalationCommandRefused.type: return try decoded(EscalationCommandRefused.self) { _ in nil }
        case EscalationRequestRefused.type: return try decoded(EscalationRequestRefused.self) { _ in nil }
        default:
            throw UnprocessableRecord(code: "unknown_type", reason: "\(envelope.type) is not an escalation event")
        }
    }
}
