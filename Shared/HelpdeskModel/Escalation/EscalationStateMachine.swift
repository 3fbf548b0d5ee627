import Foundation

/// Where a ticket's escalation stands.
public enum EscalationState: String, WireEnum {
    case none, requested, evaluating, escalated, deEscalated
}

/// Who acts on an escalation. Customers, agents and the system may only request one; engineers
/// and managers run it.
public struct EscalationActor: Sendable, Equatable, Codable {
    public enum Role: String, WireEnum { case customer, system, agent, engineer, manager }
    public var name: String
    public var role: Role

    public init(_ name: String, role: Role) {
        self.name = name
        self.role = role
    }

    public var runsEscalations: Bool { role == .engineer || role == .manager }
}

public enum EscalationCommand: Sendable, Equatable {
    case request(by: EscalationActor, via: EscalationChannel)
    case evaluate(engineer: String, by: EscalationActor)
    case escalate(by: EscalationActor)
    case recordCondition(DeEscalationCondition, by: EscalationActor, note: String?)
    case deEscalate(by: EscalationActor)

    public var name: String {
        switch self {
        case .request: "request"
        case .evaluate: "evaluate"
        case .escalate: "escalate"
        case .recordCondition: "recordCondition"
        case .deEscalate: "deEscalate"
        }
    }

    public var actor: EscalationActor {
        switch self {
        case .request(let by, _), .evaluate(_, let by), .escalate(let by), .recordCondition(_, let by, _), .deEscalate(let by): by
        }
    }
}

/// A command that cannot apply; nothing changes.
public enum EscalationRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    case notAllowed(command: String, state: EscalationState)
    case forbidden(command: String, role: EscalationActor.Role)
    case conditionAlreadyRecorded(DeEscalationCondition)

    public var description: String {
        switch self {
        case .notAllowed(let command, let state): "\(command) is not possible while the escalation is \(state.rawValue)"
        case .forbidden(let command, let role): "a \(role.rawValue) may not \(command); only engineers and managers may"
        case .conditionAlreadyRecorded(let condition): "\(condition.rawValue) is already recorded"
        }
    }
}

/// A recorded de-escalation condition: who confirmed it and when.
public struct RecordedCondition: Sendable, Equatable, Codable {
    public var by: String
    public var at: Date
    public var note: String?

    public init(by: String, at: Date, note: String?) {
        self.by = by
        self.at = at
        self.note = note
    }
}

/// What happened, in order, for the full history.
public struct EscalationHistoryEntry: Sendable, Equatable, Codable {
    public var at: Date
    public var type: String
    public var by: String
    public var detail: String?
}

/// One ticket's escalation (pure state; the escalation service persists it).
public struct Escalation: Sendable, Equatable, Codable {
    public private(set) var state: EscalationState = .none
    public private(set) var requestedBy: String?
    public private(set) var via: EscalationChannel?
    public private(set) var engineer: String?
    public private(set) var conditions: [DeEscalationCondition: RecordedCondition] = [:]
    public private(set) var history: [EscalationHistoryEntry] = []

    public init() {}

    /// The conditions de-escalation still needs, in policy order.
    public var missingConditions: [DeEscalationCondition] {
        DeEscalationCondition.allCases.filter { conditions[$0] == nil }
    }

    /// The outcome of a command: the events it produces (state already updated), or a refusal
    /// that changes nothing. A de-escalation with conditions missing is not a refusal: it is
    /// answered with a `deEscalationRefused` event naming them.
    public enum Event: Sendable, Equatable {
        case requested(EscalationRequested)
        case evaluating(EscalationEvaluating)
        case escalated(EscalationEscalated)
        case conditionRecorded(EscalationConditionRecorded)
        case deEscalated(EscalationDeEscalated)
        case deEscalationRefused(EscalationDeEscalationRefused)
    }

    public mutating func apply(_ command: EscalationCommand, at now: Date) throws(EscalationRefusal) -> Event {
        let actor = command.actor
        if case .request = command {} else if !actor.runsEscalations {
            throw .forbidden(command: command.name, role: actor.role)
        }
        switch (command, state) {
        case (.request(let by, let channel), .none), (.request(let by, let channel), .deEscalated):
            // A new round starts clean: conditions of an earlier de-escalation do not carry over.
            state = .requested
            requestedBy = by.name
            via = channel
            engineer = nil
            conditions = [:]
            record(now, EscalationRequested.type, by.name, channel.rawValue)
            return .requested(EscalationRequested(by: by.name, via: channel))
        case (.evaluate(let name, let by), .requested):
            state = .evaluating
            engineer = name
            record(now, EscalationEvaluating.type, by.name, name)
            return .evaluating(EscalationEvaluating(engineer: name, by: by.name))
        case (.escalate(let by), .evaluating):
            state = .escalated
            record(now, EscalationEscalated.type, by.name, nil)
            return .escalated(EscalationEscalated(by: by.name))
        case (.recordCondition(let condition, let by, let note), .evaluating),
            (.recordCondition(let condition, let by, let note), .escalated):
            guard conditions[condition] == nil else { throw .conditionAlreadyRecorded(condition) }
            conditions[condition] = RecordedCondition(by: by.name, at: ISO8601.wholeSeconds(now), note: note)
            record(now, EscalationConditionRecorded.type, by.name, condition.rawValue)
            return .conditionRecorded(EscalationConditionRecorded(condition: condition, by: by.name, note: note))
        // By escalating, management is already told; an engineer who has the three conditions
        // recorded may close an escalation still being evaluated without escalating further.
        case (.deEscalate(let by), .escalated), (.deEscalate(let by), .evaluating):
            let missing = missingConditions
            guard missing.isEmpty else {
                record(now, EscalationDeEscalationRefused.type, by.name, missing.map(\.rawValue).joined(separator: ","))
                return .deEscalationRefused(EscalationDeEscalationRefused(by: by.name, missing: missing))
            }
            state = .deEscalated
            record(now, EscalationDeEscalated.type, by.name, nil)
            return .deEscalated(EscalationDeEscalated(by: by.name))
        default:
            throw .notAllowed(command: command.name, state: state)
        }
    }

    /// Applies one of this escalation's own events as it was recorded: how a ticket's new owner
    /// learns what was published after its last changelog write. The event was the outcome of
    /// a command in this very state, so the command that caused it applies again; were the
    /// event already reflected, the state machine refuses it and nothing changes.
    public mutating func replay(_ event: Event, at: Date) {
        let command: EscalationCommand
        switch event {
        case .requested(let event): command = .request(by: EscalationActor(event.by, role: .system), via: event.via)
        case .evaluating(let event): command = .evaluate(engineer: event.engineer, by: EscalationActor(event.by, role: .engineer))
        case .escalated(let event): command = .escalate(by: EscalationActor(event.by, role: .engineer))
        case .conditionRecorded(let event):
            command = .recordCondition(event.condition, by: EscalationActor(event.by, role: .engineer), note: event.note)
        case .deEscalated(let event): command = .deEscalate(by: EscalationActor(event.by, role: .engineer))
        case .deEscalationRefused(let event): command = .deEscalate(by: EscalationActor(event.by, role: .engineer))
        }
        _ = try? apply(command, at: at)
    }

    private mutating func record(_ at: Date, _ type: String, _ by: String, _ detail: String?) {
        history.append(EscalationHistoryEntry(at: ISO8601.wholeSeconds(at), type: type, by: by, detail: detail))
    }
}
