import HelpdeskModel
import ServiceRuntime

/// What a signed-in person may do: read the board and reports (`reader`), also ask for an
/// escalation (`agent`), also run escalations on the desk (`engineer`, `manager`).
public enum ConsoleRole: String, Sendable, Codable, CaseIterable {
    case reader, agent, engineer, manager

    public var runsEscalations: Bool { self == .engineer || self == .manager }
}

public struct ConsoleUser: Sendable, Equatable, Codable {
    public var name: String
    public var role: ConsoleRole

    public init(name: String, role: ConsoleRole) {
        self.name = name
        self.role = role
    }

    /// The actor of the escalation commands this person sends; a reader sends none.
    var actor: EscalationActor? { EscalationActor.Role(rawValue: role.rawValue).map { EscalationActor(name, role: $0) } }
}

/// Who may sign in: the escalation service's people (`ESCALATION_TOKENS`, `token=role:name`)
/// with their roles, and the history's readers (`HISTORY_API_TOKENS`, `name=token`) as readers.
/// Both tables are searched in full, in constant time, whichever matches.
public struct ConsoleSignIn: Sendable {
    let people: EscalationTokens
    let readers: NamedSecrets

    public init(people: EscalationTokens, readers: NamedSecrets) {
        self.people = people
        self.readers = readers
    }

    public var isEmpty: Bool { people.isEmpty && readers.isEmpty }

    public func user(presenting token: String) -> ConsoleUser? {
        let person = people.actor(for: token)
        let reader = readers.name(for: token)
        if let person, let role = ConsoleRole(rawValue: person.role.rawValue) { return ConsoleUser(name: person.name, role: role) }
        return reader.map { ConsoleUser(name: $0, role: .reader) }
    }
}
