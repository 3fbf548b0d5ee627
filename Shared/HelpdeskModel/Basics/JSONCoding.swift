import Foundation

/// The one JSON configuration for everything the services write and read: camelCase,
/// instants as ISO-8601 UTC to the second, stable key order (so identical events are
/// byte-identical).
public enum WireJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\"\(text)\" is not an ISO-8601 instant with a time zone")
            }
            return date
        }
        return decoder
    }

    /// The bytes `encoder()` would write, from `WireJSONEncoder` (1.4–2.3 times as fast: `./scripts/bench-codec.sh`).
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try WireJSONEncoder().encode(value)
    }

    /// What `decoder()` would decode, from `WireJSONDecoder` over `JSONParser`'s strict parse.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: try JSONParser.parse(bytes))
    }

    /// From a document already parsed: a record read as its envelope first and then as the
    /// event that envelope names is parsed once.
    public static func decode<T: Decodable>(_ type: T.Type, from document: JSONValue) throws -> T {
        try WireJSONDecoder().decode(type, from: document)
    }
}
