import FoundationEssentials
import RTTYCore

/// Control and report answers, one JSON object per line, encoded from RTTYCore's
/// `ControlAnswer` types (which rttyctl decodes): `{"ok":true,...}` or
/// `{"error":"...","ok":false}`.
enum ControlReply {
    static func error(_ message: String) -> String { encode(ControlAnswer.Outcome.failure(message)) }

    static func ok() -> String { success(ControlAnswer.Empty()) }

    /// `"ok":true` beside the fields of `body`.
    static func success<Body: Encodable & Sendable>(_ body: Body) -> String { encode(ControlAnswer.Success(body)) }

    /// A reply type with its own `ok` field (`ControlACL`), as one line.
    static func encode<Reply: Encodable>(_ reply: Reply) -> String {
        guard let line = JSONLine.encode(reply) else { return #"{"error":"the daemon could not encode its answer","ok":false}"# + "\n" }
        return String(decoding: line, as: UTF8.self)
    }
}

/// The daemon's one JSON encoding, for audit records and control answers: keys sorted (a
/// JSON encoder keeps no order of its own, and a sorted line reads the same every time),
/// slashes in paths left as they are, one line ending in a newline.
enum JSONLine {
    static func encode<Value: Encodable>(_ value: Value) -> [UInt8]? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return nil }
        return Array(data) + [10]
    }
}
