import CRTTYTOML

/// A TOML document's values as rtty.conf uses them, read out of toml++ (CRTTYTOML) in one
/// walk; the parsed document is freed right after, so parsing leaves nothing allocated
/// behind (TOMLKit, used before, never freed its tables: memory grew with every reload).
public indirect enum TOMLValue: Equatable, Sendable {
    case table(TOMLTable)
    case array([TOMLValue])
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    /// A date or time: rtty.conf has none, so its value is not kept.
    case dateTime

    public var table: TOMLTable? { if case .table(let t) = self { t } else { nil } }
    public var array: [TOMLValue]? { if case .array(let a) = self { a } else { nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var int: Int? { if case .integer(let n) = self { n } else { nil } }
    public var bool: Bool? { if case .boolean(let b) = self { b } else { nil } }
}

/// A TOML table: its keys in the table's order (sorted, as toml++ keeps them) and values.
public struct TOMLTable: Equatable, Sendable {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]

    public subscript(key: String) -> TOMLValue? { values[key] }

    /// Parses a whole document.
    public init(string: String) throws(TOMLSyntaxError) {
        var text = string
        var message = [CChar](repeating: 0, count: 512)
        var line = 0, column = 0
        let document = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                rtty_toml_parse(chars.baseAddress, chars.count, &message, message.count, &line, &column)
            }
        }
        guard let document else {
            throw TOMLSyntaxError(line: line, column: column, message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { rtty_toml_free(document) }
        self.init(node: rtty_toml_root(document))
    }

    private init(node: OpaquePointer) {
        for i in 0..<rtty_toml_count(node) {
            var length = 0
            let key = String(decoding: UnsafeRawBufferPointer(start: rtty_toml_key(node, i, &length), count: length), as: UTF8.self)
            keys.append(key)
            values[key] = Self.value(rtty_toml_value(node, i))
        }
    }

    private static func value(_ node: OpaquePointer) -> TOMLValue {
        switch rtty_toml_type_of(node) {
        case RTTY_TOML_TABLE: return .table(TOMLTable(node: node))
        case RTTY_TOML_ARRAY: return .array((0..<rtty_toml_count(node)).map { value(rtty_toml_element(node, $0)) })
        case RTTY_TOML_STRING:
            var length = 0
            let bytes = rtty_toml_string(node, &length)
            return .string(String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self))
        case RTTY_TOML_INTEGER: return .integer(Int(rtty_toml_integer(node)))
        case RTTY_TOML_FLOAT: return .float(rtty_toml_float(node))
        case RTTY_TOML_BOOLEAN: return .boolean(rtty_toml_boolean(node) != 0)
        default: return .dateTime
        }
    }
}

/// What toml++ said about a document it could not parse, and where.
public struct TOMLSyntaxError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(message) (at line \(line), column \(column))" }
}
