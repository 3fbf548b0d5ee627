import EscalationService
import Foundation
import HelpdeskModel
import MessageBus
import ServiceRuntime
import TestSupport

let eve = EscalationActor("eve@support.example", role: .engineer)
let max = EscalationActor("max@support.example", role: .manager)
let monday = at("2026-03-09T16:00:00Z")

extension PartitionDriver where State == EscalationPartition {
    convenience init(metrics: EscalationMetrics = EscalationMetrics()) {
        self.init(EscalationPartition(partition: 0, policy: .standard, metrics: metrics))
    }
}

extension TicketInputs {
    /// An engineer's command as the API writes it to `escalation.commands`.
    func command(_ command: EscalationCommand, id: String, at time: Date = monday) -> OutgoingRecord {
        let record = EscalationCommandRecord(commandId: id, ticketId: ticketId, command: command, issuedBy: command.actor.name, issuedAt: time)
        return OutgoingRecord(topic: Topics.escalationCommands, key: ticketId.rawValue, value: try! WireJSON.encode(record))
    }

    /// The commands that take an escalation from requested to escalated.
    func evaluateAndEscalate(prefix: String) -> [OutgoingRecord] {
        [command(.evaluate(engineer: eve.name, by: max), id: "\(prefix)-evaluate"), command(.escalate(by: eve), id: "\(prefix)-escalate")]
    }
}

extension OutgoingRecord {
    /// A member of the record's JSON value.
    func member(_ name: String) -> JSONValue? {
        guard case .object(let members) = try? JSONParser.parse(value ?? []) else { return nil }
        return members[name]
    }
}
