/// Text a script hands to a console (`rttyctl send`, `rttyctl expect --send`, the agent
/// server's `send_text`): C-style escapes, so control characters can be written on a
/// command line. `\r \n \t \a \b \e \f \v \0 \\`, `\xHH` (two hex digits) and `\NNN` (one
/// to three octal digits). Anything else after a backslash is an error that names it: a
/// typo must not type something else into a console.
public enum ScriptText {
    public struct BadEscape: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func decode(_ text: String) throws(BadEscape) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "\\") else {
                out.append(bytes[i])
                i += 1
                continue
            }
            guard i + 1 < bytes.count else { throw BadEscape(description: "a lone \\ at the end of the text; write \\\\ for a backslash") }
            let letter = bytes[i + 1]
            i += 2
            if let byte = simple[letter] {
                out.append(byte)
            } else if letter == UInt8(ascii: "x") {
                let digits = bytes[i..<min(i + 2, bytes.count)].compactMap(hexValue)
                guard digits.count == 2 else { throw BadEscape(description: "\\x must be followed by two hex digits (\\x03 is Ctrl-C)") }
                out.append(digits[0] << 4 | digits[1])
                i += 2
            } else if let first = octalValue(letter) {
                var value = Int(first)
                var taken = 1
                while taken < 3, i < bytes.count, let digit = octalValue(bytes[i]) {
                    value = value * 8 + Int(digit)
                    i += 1
                    taken += 1
                }
                guard value <= 0xFF else { throw BadEscape(description: "octal escape \\\(String(value, radix: 8)) is over \\377") }
                out.append(UInt8(value))
            } else {
                throw BadEscape(description: "unknown escape \\\(ClientText.sanitized([letter], limit: 1)); known: \\r \\n \\t \\a \\b \\e \\f \\v \\\\ \\xHH \\NNN")
            }
        }
        return out
    }

    private static let simple: [UInt8: UInt8] = [
        UInt8(ascii: "r"): 13, UInt8(ascii: "n"): 10, UInt8(ascii: "t"): 9, UInt8(ascii: "a"): 7,
        UInt8(ascii: "b"): 8, UInt8(ascii: "e"): 27, UInt8(ascii: "f"): 12, UInt8(ascii: "v"): 11,
        UInt8(ascii: "\\"): UInt8(ascii: "\\"),
    ]

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func octalValue(_ byte: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte) ? byte - UInt8(ascii: "0") : nil
    }
}

/// Console output with its terminal escape sequences taken out (as `EscapeScanner` reads
/// them), for matching a pattern (`rttyctl expect`) and for an agent to read: a prompt
/// coloured by the guest still reads `login:`. Text and controls (CR, LF, TAB, BS) pass.
/// A value fed in chunks: a sequence split between reads is dropped whole.
public struct EscapeStripper: Sendable {
    private var scanner = EscapeScanner()

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            if let text = scanner.scan(byte) { out.append(text) }
        }
        return out
    }
}
