/// The client's `~` escapes (as in the classic rtty and ssh): recognised only at the start
/// of a line. Bytes in, actions out; plain text comes out as one `.send` per feed. As in
/// the classic client, every escape that does not type text (help, queries, settings,
/// cancelled or not) ends back at line start, so `~?` then `~.` leaves instead of typing
/// `~.` into the console.
public struct EscapeMachine: Sendable {
    public enum Query: Equatable, Sendable { case who, tail, version, settings }

    public enum Action: Equatable, Sendable {
        case send([UInt8])
        case quit
        case sendBreak
        case help
        case query(Query)
        case set(key: String, value: String)
        case replay
        case takeWriteLock
        case releaseWriteLock
        case suspend
        /// `~b` and a list of consoles: type into those too (`rtty --broadcast`).
        case broadcast(String)
        /// Text for the local terminal only (prompts, echo of a value being typed).
        case echo(String)
        case refused(String)
    }

    /// Keys of `~s`: b baud, p parity, w word size, s stop bits, f flow.
    public static let setKeys: [UInt8: String] = [
        UInt8(ascii: "b"): "baud", UInt8(ascii: "p"): "parity", UInt8(ascii: "w"): "data",
        UInt8(ascii: "s"): "stop", UInt8(ascii: "f"): "flow",
    ]
    public static let maxValueLength = 32
    /// The list typed after `~b`.
    public static let maxListLength = 256
    /// The key of the value `~b` edits (not a line setting).
    static let broadcastKey = "broadcast to"

    private enum State: Equatable, Sendable {
        case text
        case tilde
        case query
        case setKey
        case setValue(key: String, value: [UInt8])
    }

    public let restricted: Bool
    private var state = State.text
    private var atLineStart = true

    public init(restricted: Bool) {
        self.restricted = restricted
    }

    public static let helpText = """
        rtty escapes (at the start of a line):
          ~.  leave                     ~#  send BREAK
          ~?  this help                 ~~  send one ~
          ~qW who is attached           ~qT recent output (tail)
          ~qV versions                  ~q<Enter>  line settings
          ~sb baud  ~sp parity  ~sw word size  ~ss stop bits  ~sf flow (value, Enter)
          ~r  replay the buffer         ~w  take the write lock   ~W  release it
          ~b  type into more consoles too: a list (pbx,lab*) and Enter
          ~^Z suspend rtty
        """

    public mutating func feed<C: Collection>(_ bytes: C) -> [Action] where C.Element == UInt8 {
        var actions: [Action] = []
        var pending: [UInt8] = []
        func flush() {
            if !pending.isEmpty {
                actions.append(.send(pending))
                pending.removeAll()
            }
        }
        for byte in bytes {
            switch state {
            case .text:
                if byte == UInt8(ascii: "~") && atLineStart {
                    state = .tilde
                    continue
                }
                pending.append(byte)
                atLineStart = byte == 13 || byte == 10
            case .tilde:
                state = .text
                atLineStart = false
                if let action = tildeAction(byte) {
                    flush()
                    if case .send(let bytes) = action {
                        pending += bytes
                        atLineStart = bytes.last == 13 || bytes.last == 10
                    } else {
                        actions.append(allowed(action))
                        atLineStart = true
                    }
                }
            case .query:
                state = .text
                atLineStart = true
                flush()
                switch byte {
                case UInt8(ascii: "W"), UInt8(ascii: "w"): actions.append(.query(.who))
                case UInt8(ascii: "T"), UInt8(ascii: "t"): actions.append(.query(.tail))
                case UInt8(ascii: "V"), UInt8(ascii: "v"): actions.append(.query(.version))
                case 13, 10: actions.append(.query(.settings))
                default: actions.append(.help)
                }
            case .setKey:
                flush()
                if EscapeMachine.setKeys[byte] != nil, restricted {
                    // The key is taken, so that it is not typed into the console.
                    state = .text
                    atLineStart = true
                    actions.append(.refused("changing line settings is not allowed in a read-only session"))
                } else if let key = EscapeMachine.setKeys[byte] {
                    state = .setValue(key: key, value: [])
                    actions.append(.echo("[set \(key): "))
                } else {
                    state = .text
                    atLineStart = true
                    actions.append(.help)
                }
            case .setValue(let key, var value):
                flush()
                switch byte {
                case 13, 10:
                    state = .text
                    atLineStart = true
                    actions.append(.echo("]\r\n"))
                    let text = String(decoding: value, as: UTF8.self)
                    if !value.isEmpty { actions.append(key == Self.broadcastKey ? .broadcast(text) : .set(key: key, value: text)) }
                case 8, 127:
                    if !value.isEmpty {
                        value.removeLast()
                        actions.append(.echo("\u{8} \u{8}"))
                    }
                    state = .setValue(key: key, value: value)
                case 3, 27:  // Ctrl-C or Escape abandons the change
                    state = .text
                    atLineStart = true
                    actions.append(.echo(" (cancelled)]\r\n"))
                default:
                    if (0x21...0x7E).contains(byte) && value.count < (key == Self.broadcastKey ? Self.maxListLength : Self.maxValueLength) {
                        value.append(byte)
                        actions.append(.echo(String(decoding: [byte], as: UTF8.self)))
                    }
                    state = .setValue(key: key, value: value)
                }
            }
        }
        flush()
        return actions
    }

    private mutating func tildeAction(_ byte: UInt8) -> Action? {
        switch byte {
        case UInt8(ascii: "."): return .quit
        case UInt8(ascii: "#"): return .sendBreak
        case UInt8(ascii: "?"): return .help
        case UInt8(ascii: "~"): return .send([byte])
        case UInt8(ascii: "q"):
            state = .query
            return nil
        case UInt8(ascii: "s"):
            state = .setKey
            return nil
        case UInt8(ascii: "b"):
            guard !restricted else { return .refused("a read-only session cannot type into other consoles") }
            state = .setValue(key: Self.broadcastKey, value: [])
            return .echo("[\(Self.broadcastKey): ")
        case UInt8(ascii: "r"): return .replay
        case UInt8(ascii: "w"): return .takeWriteLock
        case UInt8(ascii: "W"): return .releaseWriteLock
        case 0x1A: return .suspend
        default: return .send([UInt8(ascii: "~"), byte])
        }
    }

    private func allowed(_ action: Action) -> Action {
        guard restricted else { return action }
        switch action {
        case .sendBreak: return .refused("BREAK is not allowed in a read-only session")
        case .takeWriteLock: return .refused("a read-only session cannot take the write lock")
        default: return action
        }
    }
}
