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
