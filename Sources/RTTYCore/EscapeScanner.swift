/// The one reading of terminal escape sequences in console output, for everything that
/// looks at output as text: `EscapeStripper` (rttyctl expect, the agent server) and
/// `TriggerMatcher`. Fed a byte at a time, it says whether the byte is text (returned) or
/// part of a sequence (nil).
///
/// CSI (`ESC [ params final`), OSC/DCS/SOS/PM/APC strings (to BEL or ST) and two-byte
/// escapes (`ESC (B`) are sequences. A newline always ends a sequence and is text: an OSC
/// a guest never terminates (a crashed shell, a truncated title) must not hide all later
/// output from a pattern. A control or a non-ASCII byte inside a CSI ends it and is text.
/// 0x9B is not taken for the C1 CSI: in UTF-8 it is a continuation byte.
public struct EscapeScanner: Sendable {
    private enum State: Sendable { case text, escape, intermediate, csi, string, stringEscape }
    private var state = State.text

    public init() {}

    /// Whether the scanner is outside any sequence (the next printable byte is text).
    @inline(__always) public var inText: Bool { state == .text }

    /// The byte if it is text, nil if it belongs to a sequence.
    public mutating func scan(_ byte: UInt8) -> UInt8? {
        if byte == 0x0A {
            state = .text
            return byte
        }
        switch state {
        case .text:
            if byte == 0x1B {
                state = .escape
                return nil
            }
            return byte
        case .escape:
            switch byte {
            case UInt8(ascii: "["): state = .csi
            case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "X"), UInt8(ascii: "^"), UInt8(ascii: "_"): state = .string
            case 0x20...0x2F: state = .intermediate
            case 0x1B: state = .escape
            default: state = .text  // the second byte of a two-byte escape
            }
        case .intermediate:
            if !(0x20...0x2F).contains(byte) { state = .text }  // the final byte
        case .csi:
            switch byte {
            case 0x20...0x3F: break  // parameters and intermediates
            case 0x40...0x7E: state = .text  // the final byte
            default:
                state = .text
                return byte
            }
        case .string, .stringEscape:
            switch byte {
            case 0x07: state = .text
            case 0x1B: state = .stringEscape
            case UInt8(ascii: "\\") where state == .stringEscape: state = .text
            default: state = .string
            }
        }
        return nil
    }

    /// Back to text (the output ended).
    public mutating func reset() { state = .text }
}
