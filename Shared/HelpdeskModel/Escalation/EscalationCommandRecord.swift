import Foundation

/// An engineer's or manager's command as the HTTP API writes it to `escalation.commands`
/// (keyed by `ticketId`), for the instance that owns the ticket to apply in order:
///
/// `{"commandId": "…", "ticketId": "tk_…", "command": "recordCondition", "by": {"name": "eve", "role": "engineer"},
///   "condition": "partiesAgreed", "note": "…", "issuedBy": "eve", "issuedAt": "…Z"}`
///
/// `by` is who the command is recorded as (the body's `by`, or the token's name); `issuedBy`
/// is always the token's name.
public struct EscalationCommandRecord: Sendable, Equatable, Codable {
    public var commandId: String
    public var ticketId: TicketID
    public var command: EscalationCommand
    public var issuedBy: String
    public var issuedAt: Date

    public init(commandId: String, ticketId: TicketID, command: EscalationCommand, issuedBy: String, issuedAt: Date) {
        self.commandId = commandId
        self.ticketId = ticketId
        self.command = command
        self.issuedBy = issuedBy
        self.issuedAt = ISO8601.wholeSeconds(issuedAt)
    }

    private enum Keys: String, CodingKey {
        case commandId, ticketId, command, by, via, engineer, condition, note, issuedBy, issuedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        commandId = try container.decode(String.self, forKey: .commandId)
        ticketId = try container.decode(TicketID.self, forKey: .ticketId)
        issuedBy = try container.decode(String.self, forKey: .issuedBy)
        issuedAt = try container.decode(Date.self, forKey: .issuedAt)
        let by = try container.decode(EscalationActor.self, forKey: .by)
        let name = try container.decode(String.self, forKey: .command)
        switch name {
        case "request":
            command = .request(by: by, via: try container.decode(EscalationChannel.self, forKey: .via))
        case "evaluate":
            command = .evaluate(engineer: try container.decode(String.self, forKey: .engineer), by: by)
        case "escalate":
            command = .escalate(by: by)
        case "recordCondition":
            command = .recordCondition(
                try container.decode(DeEscalationCondition.self, forKey: .condition), by: by,
                note: try container.decodeIfPresent(String.self, forKey: .note))
        case "deEscalate":
            command = .deEscalate(by: by)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .command, in: container,
                debugDescription: "unknown command \"\(name)\" (request|evaluate|escalate|recordCondition|deEscalate)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(commandId, forKey: .commandId)
        try container.encode(ticketId, forKey: .ticketId)
        try container.encode(command.name, forKey: .command)
        try container.encode(command.actor, forKey: .by)
        switch command {
        case .request(_, let via): try container.encode(via, forKey: .via)
        case .evaluate(let engineer, _): try container.encode(engineer, forKey: .engineer)
        case .recordCondition(let condition, _, let note):
            try container.encode(condition, forKey: .condition)
            try container.encodeIfPresent(note, forKey: .note)
        case .escalate, .deEscalate: break
        }
        try container.encode(issuedBy, forKey: .issuedBy)
        try container.encode(issuedAt, forKey: .issuedAt)
    }
}
