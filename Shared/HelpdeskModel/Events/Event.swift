import Foundation

/// What a kind of event carries beyond the envelope. `type` is the event's wire name.
public protocol EventPayload: Codable, Sendable, Equatable {
    static var type: String { get }
}

/// An event as the services emit it: the envelope every event shares (`eventId`, `type`,
/// `ticketId`, `source`, `externalId`, `at`) with the payload's fields beside it in one
/// flat JSON object.
public struct Event<Payload: EventPayload>: Sendable, Equatable, Codable {
    public var eventId: EventID
    public var ticketId: TicketID
    public var source: String
    public var externalId: String
    public var at: Date
    public var payload: Payload

    public var type: String { Payload.type }

    public init(eventId: EventID, ticketId: TicketID, source: String, externalId: String, at: Date, payload: Payload) {
        self.eventId = eventId
        self.ticketId = ticketId
        self.source = source
        self.externalId = externalId
        self.at = ISO8601.wholeSeconds(at)
        self.payload = payload
    }

    /// An event whose id is derived from who emits it and from the identity of the input
    /// that caused it, so that handling the same input twice yields the same event.
    public init(
        emittedBy service: String, causedBy cause: String, ticketId: TicketID, source: String, externalId: String,
        at: Date, payload: Payload
    ) {
        self.init(
            eventId: EventID.derive([service, Payload.type, ticketId.rawValue, cause]),
            ticketId: ticketId, source: source, externalId: externalId, at: at, payload: payload)
    }

    private enum EnvelopeKeys: String, CodingKey {
        case eventId, type, ticketId, source, externalId, at
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: EnvelopeKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        guard type == Payload.type else {
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "expected \(Payload.type), found \(type)")
        }
        eventId = try container.decode(EventID.self, forKey: .eventId)
        ticketId = try container.decode(TicketID.self, forKey: .ticketId)
        source = try container.decode(String.self, forKey: .source)
        externalId = try container.decode(String.self, forKey: .externalId)
        at = try container.decode(Date.self, forKey: .at)
        payload = try Payload(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
        var container = encoder.container(keyedBy: EnvelopeKeys.self)
        try container.encode(eventId, forKey: .eventId)
        try container.encode(Payload.type, forKey: .type)
        try container.encode(ticketId, forKey: .ticketId)
        try container.encode(source, forKey: .source)
        try container.encode(externalId, forKey: .externalId)
        try container.encode(at, forKey: .at)
    }
}

/// The envelope alone: enough to route or deduplicate a record from a topic that carries
/// several event types before decoding the payload.
public struct EventEnvelope: Sendable, Equatable, Codable {
    public var eventId: EventID
    public var type: String
    public var ticketId: TicketID
    public var source: String
    public var externalId: String
    public var at: Date
}

/// CloudEvents Kafka protocol binding (binary mode) headers for an event.
public enum CloudEventHeaders {
    public static func make<Payload: EventPayload>(for event: Event<Payload>, producer: String) -> [(String, String)] {
        [
            ("ce_specversion", "1.0"),
            ("ce_id", event.eventId.rawValue),
            ("ce_type", Payload.type),
            ("ce_source", "/helpdesk/\(producer)"),
            ("ce_time", ISO8601.format(event.at)),
            ("ce_subject", event.ticketId.rawValue),
            ("content-type", "application/json"),
        ]
    }
}

/// A record parsed once, then read as its envelope and as the event the envelope names.
public struct EventDocument: Sendable {
    public let envelope: EventEnvelope
    private let document: JSONValue

    public init(_ bytes: [UInt8]) throws {
        document = try JSONParser.parse(bytes)
        envelope = try WireJSON.decode(EventEnvelope.self, from: document)
    }

    public func event<P: EventPayload>(_ type: P.Type) throws -> Event<P> {
        try WireJSON.decode(Event<P>.self, from: document)
    }
}
