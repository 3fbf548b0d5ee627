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

    private static func published<P: EventPayload>(_ payload: P, ticket: TicketEscalation, cause: String, at: Date) -> Published {
        let event = Event(emittedBy: EscalationPartition.service, causedBy: cause, ticketId: ticket.ticketId, source: ticket.source,
                          externalId: ticket.externalId, at: at, payload: Caused(payload, causedBy: cause))
        return Published(record: OutgoingRecord(event: event, topic: Topics.escalationEvents, producer: EscalationPartition.service),
                         eventId: event.eventId, type: P.type)
    }

    /// One of our records from `escalation.events`: its envelope, the state machine's event
    /// (nil for a refused command, which changed nothing) and its cause.
    static func decode(_ record: ConsumerRecord) throws -> (EventEnvelope, Escalation.Event?, cause: String) {
        let bytes = record.value ?? []
        let envelope = try WireJSON.decode(EventEnvelope.self, from: bytes)
        func caused<P: EventPayload>(_: P.Type) throws -> Caused<P> { try WireJSON.decode(Event<Caused<P>>.self, from: bytes).payload }
        switch envelope.type {
        case EscalationRequested.type:
            let caused = try caused(EscalationRequested.self)
            return (envelope, .requested(caused.payload), caused.causedBy)
        case EscalationEvaluating.type:
            let caused = try caused(EscalationEvaluating.self)
            return (envelope, .evaluating(caused.payload), caused.causedBy)
        case EscalationEscalated.type:
            let caused = try caused(EscalationEscalated.self)
            return (envelope, .escalated(caused.payload), caused.causedBy)
        case EscalationConditionRecorded.type:
            let caused = try caused(EscalationConditionRecorded.self)
            return (envelope, .conditionRecorded(caused.payload), caused.causedBy)
        case EscalationDeEscalated.type:
            let caused = try caused(EscalationDeEscalated.self)
            return (envelope, .deEscalated(caused.payload), caused.causedBy)
        case EscalationDeEscalationRefused.type:
            let caused = try caused(EscalationDeEscalationRefused.self)
            return (envelope, .deEscalationRefused(caused.payload), caused.causedBy)
        case EscalationCommandRefused.type:
            return (envelope, nil, try caused(EscalationCommandRefused.self).causedBy)
        default:
            throw UnprocessableRecord(code: "unknown_type", reason: "\(envelope.type) is not an escalation event")
        }
    }
}
