/// The classic ttyprot frame (docs/PROTOCOL.md): a 4-byte header, `f` and `i`, both u16
/// big-endian, then a payload for the types that carry one.
public struct Frame: Equatable, Sendable {
    /// Message types. 1-11 are the classic ones; 16 and up are rtty extensions that the
    /// daemon sends only to a client that announced them with `hello`.
    public enum Kind: UInt8, Sendable, CaseIterable {
        case data = 1
        case baud = 2
        case parity = 3
        case wordSize = 4
        case breakSignal = 5
        case whosOn = 6
        case tail = 7
        case notice = 8
        case version = 9
        case login = 10
        case password = 11
        // Extensions (rtty/1).
        case hello = 16
        case settings = 17
        case error = 18
        case metadata = 19
        case windowSize = 20
        case writeLock = 21
        case replay = 22
        case result = 23
    }

    public static let queryFlag: UInt16 = 0x0100
    /// The classic client's receive buffer; never send it a longer payload.
    public static let classicMaxPayload = 468
    /// The largest payload an extended peer may send or receive (fits in `i`).
    public static let extendedMaxPayload = 16_384
    public static let headerSize = 4

    public var kind: Kind
    public var query: Bool
    /// The `i` field: a length for types with a payload, a plain value otherwise.
    public var value: UInt16
    public var payload: [UInt8]

    public init(_ kind: Kind, query: Bool = false, value: UInt16 = 0, payload: [UInt8] = []) {
        self.kind = kind
        self.query = query
        self.value = value
        self.payload = payload
    }

    /// A frame whose `i` is the payload length. The field is 16 bits: a longer payload
    /// is cut to 65,535 bytes (callers split data long before that).
    public static func withPayload(_ kind: Kind, query: Bool = false, _ payload: [UInt8]) -> Frame {
        let fitting = payload.count <= Int(UInt16.max) ? payload : Array(payload.prefix(Int(UInt16.max)))
        return Frame(kind, query: query, value: UInt16(fitting.count), payload: fitting)
    }

    public static func withText(_ kind: Kind, query: Bool = false, _ text: String) -> Frame {
        withPayload(kind, query: query, Array(text.utf8))
    }

    public static func notice(_ text: String) -> Frame { withText(.notice, text) }

    public var text: String { String(decoding: payload, as: UTF8.self) }

    /// The 16-bit `f` field as sent on the wire.
    public var flagsAndType: UInt16 { (query ? Frame.queryFlag : 0) | UInt16(kind.rawValue) }

    /// Serialises the frame; `payload.count` must already match what the type expects.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Frame.headerSize + payload.count)
        Frame.appendHeader(flagsAndType: flagsAndType, value: value, to: &out)
        out.append(contentsOf: payload)
        return out
    }

    public static func appendHeader(flagsAndType: UInt16, value: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(flagsAndType >> 8))
        out.append(UInt8(flagsAndType & 0xFF))
        out.append(UInt8(value >> 8))
        out.append(UInt8(value & 0xFF))
    }
}

/// Which side sent a frame: the same type carries a payload in one direction and a plain
/// value in the other (a BAUD reply is a value, a PARITY query reply is text).
public enum Direction: Sendable {
    case toServer
    case toClient
}

extension Frame.Kind {
    /// Extension types always carry a payload, in both directions.
    public var isExtension: Bool { rawValue >= 16 }

    /// Whether `i` is a payload length for a frame of this type, flag and direction.
    public func carriesPayload(query: Bool, direction: Direction) -> Bool {
        if isExtension { return true }
        switch self {
        case .data, .notice:
            return true
        case .whosOn, .login, .password:
            return direction == .toServer && !query
        case .parity:
            // A set carries the name; the server's answer to a query carries it too.
            return (direction == .toServer) != query
        case .baud, .wordSize, .breakSignal, .tail, .version:
            return false
        default:
            return false
        }
    }
}
