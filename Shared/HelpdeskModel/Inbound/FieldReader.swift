import Foundation

/// One problem with one field of an inbound message, named by its dotted path.
public struct FieldError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    public let field: String
    public let problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}

/// An enum whose cases are spelled on the wire by their raw values.
public protocol WireEnum: RawRepresentable<String>, CaseIterable, Sendable, Codable, Hashable {}

extension WireEnum {
    public static var allowedValues: String { allCases.map(\.rawValue).joined(separator: "|") }
}

/// Reads typed fields out of a JSON object and collects every problem it meets, so that a
/// caller learns all that is wrong with a message at once.
final class FieldReader {
    private(set) var errors: [FieldError] = []

    func fail(_ field: String, _ problem: String) {
        errors.append(FieldError(field: field, problem: problem))
    }

    func typeMismatch(_ field: String, expected: String, found: JSONValue) {
        fail(field, "must be \(expected), found \(found.kindName)")
    }
}

struct ObjectReader {
    let members: [String: JSONValue]
    let path: String
    let reader: FieldReader

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// A present, non-null value, or nil (recording "is required" when it must be there).
    private func value(_ key: String, required: Bool) -> JSONValue? {
        switch members[key] {
        case nil, .null?:
            if required { reader.fail(name(key), "is required") }
            return nil
        case let value?:
            return value
        }
    }

    func string(_ key: String, required: Bool = false, maxLength: Int, allowEmpty: Bool = false) -> String? {
        guard let value = value(key, required: required) else { return nil }
        guard case .string(let text) = value else {
            reader.typeMismatch(name(key), expected: "a string", found: value)
            return nil
        }
        // Both checks stop early on ordinary text: a blank string is found at its first
        // non-blank scalar, and a string of at most maxLength bytes has at most maxLength characters.
        if !allowEmpty, text.unicodeScalars.allSatisfy(CharacterSet.whitespacesAndNewlines.contains) {
            reader.fail(name(key), "must not be empty")
            return nil
        }
        if let problem = Self.lengthProblem(text, maxLength: maxLength) {
            reader.fail(name(key), problem)
            return nil
        }
        return text
    }

    /// A limit of n characters is also one of 4n bytes (a character of one scalar takes at most
    /// four): 200 characters of stacked combining marks are not 240 KB of key.
    static func lengthProblem(_ text: String, maxLength: Int) -> String? {
        let bytes = text.utf8.count
        guard bytes > maxLength else { return nil }
        if bytes > 4 * maxLength { return "is \(bytes) bytes long in UTF-8, the limit is \(4 * maxLength)" }
        let length = text.count
        return length > maxLength ? "is \(length) characters long, the limit is \(maxLength)" : nil
    }

    /// A short identifier: no control characters.
    func identifier(_ key: String, required: Bool = false, maxLength: Int) -> String? {
        guard let text = string(key, required: required, maxLength: maxLength) else { return nil }
        if text.unicodeScalars.contains(where: \.isControlCharacter) {
            reader.fail(name(key), "must not contain control characters")
            return nil
        }
        return text
    }

    func bool(_ key: String) -> Bool? {
        guard let value = value(key, required: false) else { return nil }
        guard case .bool(let flag) = value else {
            reader.typeMismatch(name(key), expected: "true or false", found: value)
            return nil
        }
        return flag
    }

    func oneOf<E: WireEnum>(_ key: String, required: Bool = false, _ type: E.Type) -> E? {
        guard let value = value(key, required: required) else { return nil }
        guard case .string(let text) = value else {
            reader.typeMismatch(name(key), expected: "one of \(E.allowedValues)", found: value)
            return nil
        }
        guard let parsed = E(rawValue: text) else {
            reader.fail(name(key), "\"\(text.prefix(64))\" is not one of \(E.allowedValues)")
            return nil
        }
        return parsed
    }

    func severity(_ key: String, required: Bool = false) -> Severity? {
        guard let value = value(key, required: required) else { return nil }
        switch value {
        case .string(let text):
            if let severity = Severity(parsing: text) { return severity }
            reader.fail(name(key), "\"\(text.prefix(64))\" is not one of \(Severity.allowedSpellings)")
        case .number(_, let text):
            if let severity = Severity(parsing: text) { return severity }
            reader.fail(name(key), "\(text) is not one of \(Severity.allowedSpellings)")
        default:
            reader.typeMismatch(name(key), expected: "one of \(Severity.allowedSpellings)", found: value)
        }
        return nil
    }

    func instant(_ key: String) -> Date? {
        guard let value = value(key, required: false) else { return nil }
        guard case .string(let text) = value else {
            reader.typeMismatch(name(key), expected: "an ISO-8601 instant", found: value)
            return nil
        }
        guard let date = ISO8601.parse(text) else {
            reader.fail(name(key), "\"\(text.prefix(64))\" is not an ISO-8601 instant with a time zone (e.g. 2026-03-06T23:30:00Z)")
            return nil
        }
        return date
    }

    func object(_ key: String, required: Bool = false) -> ObjectReader? {
        guard let value = value(key, required: required) else { return nil }
        guard case .object(let members) = value else {
            reader.typeMismatch(name(key), expected: "an object", found: value)
            return nil
        }
        return ObjectReader(members: members, path: name(key), reader: reader)
    }

    func strings(_ key: String, maxCount: Int, maxLength: Int) -> [String]? {
        guard let value = value(key, required: false) else { return nil }
        guard case .array(let elements) = value else {
            reader.typeMismatch(name(key), expected: "an array of strings", found: value)
            return nil
        }
        if elements.count > maxCount {
            reader.fail(name(key), "has \(elements.count) entries, the limit is \(maxCount)")
            return nil
        }
        var result = [String]()
        for (index, element) in elements.enumerated() {
            let field = "\(name(key))[\(index)]"
            guard case .string(let text) = element else {
                reader.typeMismatch(field, expected: "a string", found: element)
                continue
            }
            if let problem = Self.lengthProblem(text, maxLength: maxLength) {
                reader.fail(field, problem)
                continue
            }
            result.append(text)
        }
        return result
    }
}

extension Unicode.Scalar {
    /// Unicode's control characters (general category Cc), which are exactly U+0000–U+001F and
    /// U+007F–U+009F: comparing is much cheaper than looking the category up for every scalar.
    public var isControlCharacter: Bool { value < 0x20 || (0x7F...0x9F).contains(value) }
}
