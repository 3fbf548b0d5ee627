import Foundation

/// A payload with the identity of what caused it beside its fields (`causedBy`). The escalation
/// service's events name the command (`commandId`) or the input event that led to them: an API
/// caller finds its command's outcome by it, and a ticket's new owner tells by it which
/// commands its state already reflects.
public struct Caused<Payload: EventPayload>: EventPayload {
    public static var type: String { Payload.type }
    public var payload: Payload
    public var causedBy: String

    public init(_ payload: Payload, causedBy: String) {
        self.payload = payload
        self.causedBy = causedBy
    }

    private enum Keys: String, CodingKey { case causedBy }

    public init(from decoder: any Decoder) throws {
        payload = try Payload(from: decoder)
        causedBy = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .causedBy)
    }

    public func encode(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(causedBy, forKey: .causedBy)
    }
}
