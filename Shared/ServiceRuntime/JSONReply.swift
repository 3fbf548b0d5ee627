import HelpdeskModel
import Hummingbird

/// JSON responses as every service's API writes them: wire JSON for values, and errors as
/// `{"error": code, "message": sentence}` plus any further members.
public enum JSONReply {
    public static func make(_ status: HTTPResponse.Status, _ members: [String: JSONValue]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: JSONValue.object(members).serialized())))
    }

    public static func value<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try WireJSON.encode(value))))
    }

    public static func error(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, _ extra: [String: JSONValue] = [:]
    ) -> Response {
        make(status, extra.merging(["error": .string(code), "message": .string(message)]) { _, new in new })
    }
}
