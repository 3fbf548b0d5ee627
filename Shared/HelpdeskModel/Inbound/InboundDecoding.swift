import Foundation

/// Why an inbound record was refused. Each case reads as one precise sentence and carries a
/// stable machine-readable code for dead-letter headers and metrics.
public enum InboundRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case tooLarge(bytes: Int, limit: Int)
    case notUTF8
    case notJSON(JSONSyntaxError)
    case notAnObject(found: String)
    case invalidFields([FieldError])

    public var code: String {
        switch self {
        case .empty: "empty"
        case .tooLarge: "too_large"
        case .notUTF8: "not_utf8"
        case .notJSON: "not_json"
        case .notAnObject: "not_an_object"
        case .invalidFields: "invalid_fields"
        }
    }

    public var description: String {
        switch self {
        case .empty: "the record has no value"
        case .tooLarge(let bytes, let limit): "the record is \(bytes) bytes, the limit is \(limit)"
        case .notUTF8: "the record is not valid UTF-8"
        case .notJSON(let error): "the record is not JSON: \(error)"
        case .notAnObject(let found): "the record must be a JSON object, found \(found)"
        case .invalidFields(let errors): errors.map(\.description).joined(separator: "; ")
        }
    }

    public var fieldErrors: [FieldError] {
        if case .invalidFields(let errors) = self { return errors }
        return []
    }
}

extension InboundMessage {
    /// Decodes the raw bytes of an inbound record, checking size, encoding and syntax first.
    /// `defaultKind` stands in for a missing `type` (the HTTP API knows it from the route).
    public static func decode(
        _ bytes: [UInt8], defaultKind: Kind? = nil, maxBytes: Int = InboundLimits.maxRecordBytes
    ) throws(InboundRejection) -> InboundMessage {
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= maxBytes else { throw .tooLarge(bytes: bytes.count, limit: maxBytes) }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw .notUTF8 }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw .notJSON(error)
        }
        return try decode(document, defaultKind: defaultKind)
    }

    public static func decode(_ document: JSONValue, defaultKind: Kind? = nil) throws(InboundRejection) -> InboundMessage {
        guard case .object(let members) = document else { throw .notAnObject(found: document.kindName) }
        let reader = FieldReader()
        let root = ObjectReader(members: members, path: "", reader: reader)
        let kind = members["type"] == nil ? defaultKind : root.oneOf("type", required: true, Kind.self)
        if kind == nil, members["type"] == nil { reader.fail("type", "is required") }
        let source = root.identifier("source", required: true, maxLength: InboundLimits.maxSourceLength)
        if let source, !source.utf8.allSatisfy(isSourceCharacter) {
            reader.fail("source", "\"\(source)\" may hold only a-z, 0-9, '.', '_' and '-'")
        }
        let externalId = root.identifier("externalId", required: true, maxLength: InboundLimits.maxIdentifierLength)

        let message: InboundMessage?
        switch kind {
        case .opened?: message = decodeOpened(root, source: source, externalId: externalId)
        case .message?: message = decodeMessage(root, source: source, externalId: externalId)
        case .severityChanged?: message = decodeSeverityChange(root, source: source, externalId: externalId)
        case .statusChanged?: message = decodeStatusChange(root, source: source, externalId: externalId)
        case .assigned?: message = decodeAssignment(root, source: source, externalId: externalId)
        case .shiftStarted?, .shiftEnded?:
            message = decodeShift(root, started: kind == .shiftStarted, source: source, externalId: externalId)
        case nil: message = nil
        }
        guard reader.errors.isEmpty, let message else { throw .invalidFields(reader.errors) }
        return message
    }

    private static func isSourceCharacter(_ byte: UInt8) -> Bool {
        (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }

    private static func decodeOpened(_ root: ObjectReader, source: String?, externalId: String?) -> InboundMessage? {
        let organizationId = root.identifier("organizationId", required: true, maxLength: InboundLimits.maxIdentifierLength)
        let subject = root.string("subject", required: true, maxLength: InboundLimits.maxSubjectLength)
        let description = root.string("description", maxLength: InboundLimits.maxTextLength, allowEmpty: true)
        let requester = root.object("requester").map { requester in
            Requester(
                name: requester.string("name", maxLength: InboundLimits.maxNameLength),
                email: requester.identifier("email", maxLength: InboundLimits.maxNameLength))
        }
        let reportedSeverity = root.severity("reportedSeverity")
        let impact = root.object("impact").map { impact in
            Impact(
                serviceDown: impact.bool("serviceDown"),
                usersAffected: impact.oneOf("usersAffected", UsersAffected.self),
                workaround: impact.oneOf("workaround", Workaround.self),
                installations: impact.oneOf("installations", Installations.self),
                cosmetic: impact.bool("cosmetic"),
                dedicatedContact: impact.identifier("dedicatedContact", maxLength: InboundLimits.maxNameLength))
        }
        let category = root.oneOf("category", TicketCategory.self)
        let openedAt = root.instant("openedAt")
        let assignee = root.identifier("assignee", maxLength: InboundLimits.maxNameLength)
        guard let source, let externalId, let organizationId, let subject else { return nil }
        return .opened(
            TicketOpened(
                source: source, externalId: externalId, organizationId: organizationId, subject: subject,
                description: description, requester: requester, reportedSeverity: reportedSeverity, impact: impact,
                category: category, openedAt: openedAt, assignee: assignee))
    }

    private static func decodeMessage(_ root: ObjectReader, source: String?, externalId: String?) -> InboundMessage? {
        let authorReader = root.object("author", required: true)
        let role = authorReader?.oneOf("role", required: true, AuthorRole.self)
        let email = authorReader?.identifier("email", maxLength: InboundLimits.maxNameLength)
        let name = authorReader?.string("name", maxLength: InboundLimits.maxNameLength)
        let isPublic = root.bool("public")
        let body = root.string("body", maxLength: InboundLimits.maxTextLength, allowEmpty: true)
        let cc = root.strings("cc", maxCount: InboundLimits.maxCCEntries, maxLength: InboundLimits.maxNameLength)
        let sentAt = root.instant("sentAt")
        guard let source, let externalId, let role else { return nil }
        return .message(
            TicketMessage(
                source: source, externalId: externalId, author: Author(role: role, email: email, name: name),
                isPublic: isPublic ?? true, body: body ?? "", cc: cc ?? [], sentAt: sentAt))
    }

    private static func decodeSeverityChange(_ root: ObjectReader, source: String?, externalId: String?) -> InboundMessage? {
        let severity = root.severity("severity", required: true)
        let changedBy = root.identifier("changedBy", maxLength: InboundLimits.maxNameLength)
        let reason = root.string("reason", maxLength: InboundLimits.maxSubjectLength, allowEmpty: true)
        let changedAt = root.instant("changedAt")
        guard let source, let externalId, let severity else { return nil }
        return .severityChanged(
            SeverityChange(
                source: source, externalId: externalId, severity: severity, changedBy: changedBy, reason: reason,
                changedAt: changedAt))
    }

    private static func decodeAssignment(_ root: ObjectReader, source: String?, externalId: String?) -> InboundMessage? {
        let assignee = root.identifier("assignee", required: true, maxLength: InboundLimits.maxNameLength)
        let assignedBy = root.identifier("assignedBy", maxLength: InboundLimits.maxNameLength)
        let assignedAt = root.instant("assignedAt")
        guard let source, let externalId, let assignee else { return nil }
        return .assigned(Assignment(source: source, externalId: externalId, assignee: assignee, assignedBy: assignedBy,
                                    assignedAt: assignedAt))
    }

    private static func decodeShift(_ root: ObjectReader, started: Bool, source: String?, externalId: String?) -> InboundMessage? {
        let agent = root.identifier("agent", required: true, maxLength: InboundLimits.maxNameLength)
        let team = root.identifier("team", maxLength: InboundLimits.maxNameLength)
        let at = root.instant("at")
        let until = root.instant("until")
        if let at, let until, until <= at { root.reader.fail("until", "must be after at") }
        if let at, let until, until.timeIntervalSince(at) > 14 * 86_400 { root.reader.fail("until", "must be within 14 days of at") }
        guard let source, let externalId, let agent else { return nil }
        return .shift(ShiftChange(source: source, externalId: externalId, started: started, agent: agent, team: team, at: at,
                                  until: until))
    }

    private static func decodeStatusChange(_ root: ObjectReader, source: String?, externalId: String?) -> InboundMessage? {
        let status = root.oneOf("status", required: true, TicketStatus.self)
        let changedAt = root.instant("changedAt")
        guard let source, let externalId, let status else { return nil }
        return .statusChanged(StatusChange(source: source, externalId: externalId, status: status, changedAt: changedAt))
    }
}
