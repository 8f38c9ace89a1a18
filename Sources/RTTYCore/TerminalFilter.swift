/// Guest output on its way to an admin's terminal (`rttyctl log`, `rttyctl replay`): the
/// bytes are the guest's, untrusted, and a terminal obeys what it is sent: OSC 52 writes
/// the clipboard, OSC 0/2 the title, and queries (ESC[6n, ESC[21t, DECRQSS) make the
/// terminal type an answer as if the admin had. So only text is passed: printable ASCII,
/// UTF-8 letters, CR, LF, TAB and SGR colour sequences. Everything else is shown, inert:
/// ESC as `\e`, BEL as `\a`, other controls and bytes that are not UTF-8 as `\xNN`, C1 and
/// format characters as `\u{9b}`, so `ESC ] 52 ; ...` reads `\e]52;...`.
///
/// A value fed in chunks: a sequence split between two reads is held (a CSI only until its
/// final byte decides, at most `maxHeld` bytes), never passed half.
public struct TerminalFilter: Sendable {
    /// The longest CSI held to see whether it is SGR; a longer one is shown, not kept.
    public static let maxHeld = 64

    private enum State: Sendable {
        case text
        /// After ESC.
        case escape
        /// ESC [ ... held in `held` until the final byte says whether it is SGR.
        case csi
        /// A sequence being shown up to its final byte: the bytes in `continuing` go on
        /// with it, those above end it. ESC and intermediates (ESC ( B: 0x20-0x2F, final
        /// from 0x30), or a CSI too long to be held (0x20-0x3F, final from 0x40).
        case shown(continuing: ClosedRange<UInt8>)
        /// OSC, DCS, SOS, PM, APC: shown up to BEL or ST (ESC \).
        case string
    }

    private var state = State.text
    private var held: [UInt8] = []
    /// A UTF-8 character begun in one chunk and not yet whole.
    private var partial: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes { take(byte, into: &out) }
        return out
    }

    /// The end of the stream: whatever is held is shown.
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        switch state {
        case .csi: Self.show(held, into: &out)
        case .escape: Self.show(0x1B, into: &out)
        default: break
        }
        for byte in partial { Self.show(byte, into: &out) }
        held = []
        partial = []
        state = .text
        return out
    }

    private mutating func take(_ byte: UInt8, into out: inout [UInt8]) {
        switch state {
        case .text:
            text(byte, into: &out)
        case .escape:
            state = .text
            switch byte {
            case UInt8(ascii: "["):
                held = [0x1B, byte]
                state = .csi
            case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "X"), UInt8(ascii: "^"), UInt8(ascii: "_"):
                Self.show([0x1B, byte], into: &out)
                state = .string
            case 0x20...0x2F:
                Self.show([0x1B, byte], into: &out)
                state = .shown(continuing: 0x20...0x2F)
            case 0x30...0x7E:
                Self.show([0x1B, byte], into: &out)
            case 0x1B:
                Self.show(0x1B, into: &out)
                state = .escape
            default:
                Self.show(0x1B, into: &out)
                text(byte, into: &out)
            }
        case .shown(let continuing):
            if continuing.contains(byte) {
                Self.show(byte, into: &out)
            } else if (continuing.upperBound + 1...0x7E).contains(byte) {
                Self.show(byte, into: &out)
                state = .text
            } else {
                state = .text
                text(byte, into: &out)
            }
        case .csi:
            switch byte {
            case 0x20...0x3F:
                held.append(byte)
                if held.count > Self.maxHeld {
                    Self.show(held, into: &out)
                    held = []
                    state = .shown(continuing: 0x20...0x3F)
                }
            case 0x40...0x7E:
                held.append(byte)
                if Self.isSGR(held) { out += held } else { Self.show(held, into: &out) }
                held = []
                state = .text
            default:
                Self.show(held, into: &out)
                held = []
                state = .text
                text(byte, into: &out)
            }
        case .string:
            switch byte {
            case 0x07:
                Self.show(byte, into: &out)
                state = .text
            case 0x1B:
                // ST (ESC \) ends the string; any other ESC ends it too and begins anew.
                state = .escape
            case 0x18, 0x1A:
                Self.show(byte, into: &out)
                state = .text
            default:
                Self.show(byte, into: &out)
            }
        }
    }

    /// Outside any sequence: text passes, controls are shown, UTF-8 is checked whole.
    private mutating func text(_ byte: UInt8, into out: inout [UInt8]) {
        if !partial.isEmpty {
            if byte & 0xC0 == 0x80 {
                partial.append(byte)
                if partial.count == Self.utf8Length(partial[0]) { character(into: &out) }
                return
            }
            for pending in partial { Self.show(pending, into: &out) }
            partial = []
        }
        switch byte {
        case 0x1B: state = .escape
        case 0x09, 0x0A, 0x0D, 0x20...0x7E: out.append(byte)
        case 0xC2...0xF4: partial = [byte]
        default: Self.show(byte, into: &out)
        }
    }

    /// A whole UTF-8 sequence: kept if it is a character a terminal only prints.
    private mutating func character(into out: inout [UInt8]) {
        defer { partial = [] }
        guard let text = String(validating: partial, as: UTF8.self), let scalar = text.unicodeScalars.first else {
            for byte in partial { Self.show(byte, into: &out) }
            return
        }
        out += Array(TerminalText.visible(scalar).utf8)
    }

    static func utf8Length(_ lead: UInt8) -> Int { lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2 }

    /// ESC [ digits, ';' and ':' only, then m: Select Graphic Rendition (colours, bold).
    static func isSGR(_ sequence: [UInt8]) -> Bool {
        sequence.last == UInt8(ascii: "m") && sequence.dropFirst(2).dropLast().allSatisfy { (0x30...0x3B).contains($0) }
    }

    static func show(_ bytes: [UInt8], into out: inout [UInt8]) {
        for byte in bytes { show(byte, into: &out) }
    }

    static func show(_ byte: UInt8, into out: inout [UInt8]) {
        switch byte {
        case 0x1B: out += Array("\\e".utf8)
        case 0x07: out += Array("\\a".utf8)
        case 0x20...0x7E: out.append(byte)
        default: out += Array(ClientText.hex(byte).utf8)
        }
    }
}
