import Foundation
import HelpdeskModel
import MessageBus

extension OutgoingRecord {
    /// An event as every service publishes it: wire JSON, keyed by its ticket unless told
    /// otherwise, with CloudEvents headers naming the producer.
    public init<P: EventPayload>(event: Event<P>, topic: String, key: String? = nil, producer: String) {
        self.init(
            topic: topic, key: key ?? event.ticketId.rawValue,
            // Encoding our own Codable event types cannot fail.
            value: try! WireJSON.encode(event),
            headers: CloudEventHeaders.make(for: event, producer: producer).map { RecordHeader($0.0, $0.1) })
    }
}

extension OutgoingRecord {
    /// A `notifications` record: something a person should be told about a ticket. Its id
    /// derives from the event that caused it and the audience (and, with `byRecipient`, the
    /// recipient), so a redo, or a notification made again after a restart, is identical.
    public static func notification(
        _ notification: HelpdeskModel.Notification, ticketId: TicketID, source: String, externalId: String, at: Date,
        producer: String, byRecipient: Bool = false
    ) -> OutgoingRecord {
        let cause = "\(notification.causedBy.rawValue)/\(notification.audience.rawValue)"
            + (byRecipient ? "/\(notification.recipient ?? "")" : "")
        return OutgoingRecord(
            event: Event(emittedBy: producer, causedBy: cause, ticketId: ticketId, source: source, externalId: externalId, at: at,
                         payload: notification),
            topic: Topics.notifications, producer: producer)
    }
}
