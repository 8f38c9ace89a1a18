/// JSON-RPC 2.0 messages, as the agent server (`rtty mcp`, Model Context Protocol over
/// stdio) reads and writes them: Codable values here, encoded by Foundation's JSON coders
/// in the program. `JSONValue` holds what the protocol leaves open (ids, params, results).
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

public struct JSONRPCRequest: Decodable, Sendable {
    public let jsonrpc: String
    /// Absent for a notification, which gets no answer.
    public let id: JSONValue?
    public let method: String
    public let params: JSONValue?
}

public struct JSONRPCError: Encodable, Equatable, Sendable {
    public let code: Int
    public let message: String

    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }
}

public struct JSONRPCResponse: Encodable, Sendable {
    public let jsonrpc = "2.0"
    public let id: JSONValue
    public let result: JSONValue?
    public let error: JSONRPCError?

    public init(id: JSONValue, result: JSONValue) {
        self.id = id
        self.result = result
        self.error = nil
    }

    public init(id: JSONValue, error: JSONRPCError) {
        self.id = id
        self.result = nil
        self.error = error
    }
}
