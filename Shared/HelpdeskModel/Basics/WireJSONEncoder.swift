import Foundation

/// Encodes `Encodable` values to the wire JSON, byte for byte as `WireJSON.encoder()` (Foundation's
/// `JSONEncoder` with sorted keys, unescaped slashes and ISO-8601 instants) writes it, at a
/// fraction of the cost: the sla-timer encodes every event of a burst of due timers before
/// publishing any, and `JSONEncoder` was most of that time.
struct WireJSONEncoder {
    func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = NodeEncoder(codingPath: [])
        try encoder.encodeValue(value)
        var out = [UInt8]()
        out.reserveCapacity(512)
        encoder.node.write(into: &out)
        return out
    }
}

/// A JSON value under construction; objects and arrays are shared boxes so that every
/// container an `Encodable` asks for writes into the same one.
private enum Node {
    case empty, null, bool(Bool), number(String), string(String)
    case object(ObjectBox), array(ArrayBox)

    func write(into out: inout [UInt8]) {
        switch self {
        case .empty, .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): JSONText.writeString(text, into: &out)
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (index, element) in box.elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let box):
            out.append(UInt8(ascii: "{"))
            for (index, member) in box.members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Values that are written as one token, found by metatype comparison rather than dynamic
    /// casts (this runs for every field of every event): primitives, instants, and the
    /// model's identifiers and severities (what their own `encode(to:)` would write).
    static func leaf<T>(_ value: T) -> Node? {
        if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
        if T.self == Date.self { return .string(ISO8601.format(unsafeBitCast(value, to: Date.self))) }
        if T.self == Int.self { return .number(String(unsafeBitCast(value, to: Int.self))) }
        if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Double.self { return number(unsafeBitCast(value, to: Double.self)) }
        if T.self == Int64.self { return .number(String(unsafeBitCast(value, to: Int64.self))) }
        if T.self == Int32.self { return .number(String(unsafeBitCast(value, to: Int32.self))) }
        if T.self == UInt64.self { return .number(String(unsafeBitCast(value, to: UInt64.self))) }
        if T.self == TicketID.self { return .string(unsafeBitCast(value, to: TicketID.self).rawValue) }
        if T.self == EventID.self { return .string(unsafeBitCast(value, to: EventID.self).rawValue) }
        if T.self == Severity.self { return .string(unsafeBitCast(value, to: Severity.self).name) }
        return nil
    }

    /// Numbers as `JSONEncoder` writes them: integral values without a fraction.
    static func number(_ value: Double) -> Node {
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number("\(value)")
    }
}

/// An object's members in the order written; a key written again replaces its value. Objects
/// on the wire have a dozen members at most, so a scan beats hashing.
private final class ObjectBox {
    var members: [(key: String, value: Node)] = []

    subscript(key: String) -> Node? {
        get { members.first { $0.key == key }?.value }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }
}

private final class ArrayBox {
    var elements: [Node] = []
}

private final class NodeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: Node = .empty

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    /// Primitives and instants directly; anything else through its own `encode(to:)`.
    func encodeValue<T: Encodable>(_ value: T, inSingleValueContainer: Bool = false) throws {
        if let leaf = Node.leaf(value) {
            node = leaf
        } else if inSingleValueContainer, let number = value as? any BinaryInteger {
            // Other integer types land here from their own `encode(to:)`; going round again would never end.
            node = .number("\(number)")
        } else if inSingleValueContainer, let number = value as? Float {
            node = Node.number(Double(number))
        } else {
            try value.encode(to: self)
        }
    }

    func child<T: Encodable>(_ value: T, key: (any CodingKey)?) throws -> Node {
        if let leaf = Node.leaf(value) { return leaf }
        let encoder = NodeEncoder(codingPath: key.map { codingPath + [$0] } ?? codingPath)
        try encoder.encodeValue(value)
        return encoder.node
    }

    func objectBox() -> ObjectBox {
        if case .object(let box) = node { return box }
        let box = ObjectBox()
        node = .object(box)
        return box
    }

    func arrayBox() -> ArrayBox {
        if case .array(let box) = node { return box }
        let box = ArrayBox()
        node = .array(box)
        return box
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedContainer<Key>(encoder: self, box: objectBox()))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedContainer(encoder: self, box: arrayBox())
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(encoder: self)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: NodeEncoder
    let box: ObjectBox
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws { box[key.stringValue] = .null }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box[key.stringValue] = try encoder.child(value, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        box[key.stringValue] = .object(nested)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(encoder: NodeEncoder(codingPath: codingPath + [key]), box: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box[key.stringValue] = .array(nested)
        return UnkeyedContainer(encoder: NodeEncoder(codingPath: codingPath + [key]), box: nested)
    }

    mutating func superEncoder() -> any Encoder { SuperEncoder(parent: encoder, box: box, key: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { SuperEncoder(parent: encoder, box: box, key: key.stringValue) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: NodeEncoder
    let box: ArrayBox
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { box.elements.count }

    mutating func encodeNil() throws { box.elements.append(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        box.elements.append(try encoder.child(value, key: nil))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectBox()
        box.elements.append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(encoder: NodeEncoder(codingPath: codingPath), box: nested))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArrayBox()
        box.elements.append(.array(nested))
        return UnkeyedContainer(encoder: NodeEncoder(codingPath: codingPath), box: nested)
    }

    mutating func superEncoder() -> any Encoder {
        let child = NodeEncoder(codingPath: codingPath)
        let index = box.elements.count
        box.elements.append(.empty)
        return DeferredEncoder(child: child) { [box] node in box.elements[index] = node }
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: NodeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.node = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value, inSingleValueContainer: true) }
}

/// `superEncoder(forKey:)`: a child encoder whose result lands under the key. Rare (class
/// hierarchies); nothing on the wire uses it, but an `Encoder` must offer it.
private func SuperEncoder(parent: NodeEncoder, box: ObjectBox, key: String) -> any Encoder {
    let child = NodeEncoder(codingPath: parent.codingPath)
    return DeferredEncoder(child: child) { node in box[key] = node }
}

/// Forwards to a child encoder and stores its node wherever the parent wants it, each time
/// a container is taken (the containers share boxes, so later writes land too).
private final class DeferredEncoder: Encoder {
    let child: NodeEncoder
    let store: (Node) -> Void
    var codingPath: [any CodingKey] { child.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(child: NodeEncoder, store: @escaping (Node) -> Void) {
        self.child = child
        self.store = store
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        defer { store(child.node) }
        return child.container(keyedBy: type)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        defer { store(child.node) }
        return child.unkeyedContainer()
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        // A single value replaces the node, so it is stored when the container writes.
        DeferredSingleValue(child: child, store: store)
    }
}

private struct DeferredSingleValue: SingleValueEncodingContainer {
    let child: NodeEncoder
    let store: (Node) -> Void
    var codingPath: [any CodingKey] { child.codingPath }

    mutating func encodeNil() throws { store(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        try child.encodeValue(value, inSingleValueContainer: true)
        store(child.node)
    }
}

/// JSON text as every writer here produces it.
enum JSONText {
    /// Escapes as `JSONEncoder` does: quote, backslash and control characters; `/` and
    /// non-ASCII text as they are.
    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Most strings need no escape at all: copy them whole.
            guard bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): out += [0x5C, 0x22]
                case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
                case 0x0A: out += [0x5C, UInt8(ascii: "n")]
                case 0x0D: out += [0x5C, UInt8(ascii: "r")]
                case 0x09: out += [0x5C, UInt8(ascii: "t")]
                case 0x08: out += [0x5C, UInt8(ascii: "b")]
                case 0x0C: out += [0x5C, UInt8(ascii: "f")]
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out += [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
