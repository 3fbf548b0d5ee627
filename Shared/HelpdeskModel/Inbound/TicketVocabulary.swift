public enum UsersAffected: String, WireEnum { case all, majority, multiple, few, one }
public enum Workaround: String, WireEnum { case none, temporary, longTerm, notScalable }
public enum Installations: String, WireEnum { case halted, impaired, unaffected }
public enum TicketCategory: String, WireEnum { case incident, question, documentation }
public enum AuthorRole: String, WireEnum { case agent, customer, system }
public enum TicketStatus: String, WireEnum {
    case new, open, pending, onHold, solved, closed
    /// Solved and closed tickets need no further response.
    public var isResolved: Bool { self == .solved || self == .closed }
}

public struct Requester: Sendable, Equatable, Codable {
    public var name: String?
    public var email: String?
    public init(name: String? = nil, email: String? = nil) {
        self.name = name
        self.email = email
    }
}

/// The structured impact a producer may report; every field is optional.
public struct Impact: Sendable, Equatable, Codable {
    public var serviceDown: Bool?
    public var usersAffected: UsersAffected?
    public var workaround: Workaround?
    public var installations: Installations?
    public var cosmetic: Bool?
    public var dedicatedContact: String?

    public init(
        serviceDown: Bool? = nil, usersAffected: UsersAffected? = nil, workaround: Workaround? = nil,
        installations: Installations? = nil, cosmetic: Bool? = nil, dedicatedContact: String? = nil
    ) {
        self.serviceDown = serviceDown
        self.usersAffected = usersAffected
        self.workaround = workaround
        self.installations = installations
        self.cosmetic = cosmetic
        self.dedicatedContact = dedicatedContact
    }
}

public struct Author: Sendable, Equatable, Codable {
    public var role: AuthorRole
    public var email: String?
    public var name: String?
    public init(role: AuthorRole, email: String? = nil, name: String? = nil) {
        self.role = role
        self.email = email
        self.name = name
    }
}

/// Size limits on inbound text. A whole inbound record may be at most 1 MiB.
public enum InboundLimits {
    public static let maxRecordBytes = 1 << 20
    public static let maxSourceLength = 64
    public static let maxIdentifierLength = 200
    public static let maxSubjectLength = 1_000
    public static let maxTextLength = 100_000
    public static let maxNameLength = 320
    public static let maxCCEntries = 50
}
