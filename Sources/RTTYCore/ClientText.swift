/// Text a client sent about itself (WHOSON, METADATA, rtty-shell's reports), made safe
/// once, when the daemon receives it: whatever it is later shown on (`rttyctl who`, the
/// daemon log, other users' terminals, the audit log) gets printable ASCII only.
public enum ClientText {
    /// Printable ASCII is kept; every other byte (controls, ESC, DEL, anything non-ASCII,
    /// and a space when `spaces` is false) becomes `\xNN`, and a backslash `\\`, so the
    /// result still says exactly what was sent and can hold no escape sequence. At most
    /// `limit` bytes of the input are read.
    public static func sanitized(_ bytes: some Sequence<UInt8>, limit: Int, spaces: Bool = true) -> String {
        var out = ""
        for byte in bytes.prefix(limit) {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x21...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x20 where spaces: out += " "
            default: out += hex(byte)
            }
        }
        return out
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}

/// Output for a person's terminal (rttyctl's tables): text that came from elsewhere (the
/// daemon, the audit log) may hold anything, so every field passes through here.
public enum TerminalText {
    /// C0 and C1 controls, ESC, DEL, Unicode format characters (bidi overrides, zero
    /// width) and line or paragraph separators become visible (`\x1b`, `\u{202e}`);
    /// bytes that are not UTF-8 become `\xNN`. Other text, including non-ASCII letters, is
    /// kept as it is.
    public static func escaped(_ bytes: some Collection<UInt8>) -> String {
        let bytes = Array(bytes)
        var out = ""
        var i = 0
        while i < bytes.count {
            let length = bytes[i] < 0x80 ? 1 : bytes[i] >= 0xF0 ? 4 : bytes[i] >= 0xE0 ? 3 : 2
            // String(validating:) also refuses overlong forms and surrogates.
            if i + length <= bytes.count, let text = String(validating: bytes[i..<(i + length)], as: UTF8.self),
                let scalar = text.unicodeScalars.first
            {
                out += visible(scalar)
                i += length
            } else {
                out += ClientText.hex(bytes[i])
                i += 1
            }
        }
        return out
    }

    public static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars { out += visible(scalar) }
        return out
    }

    /// One field of a table row: a string, a number or anything JSON decoded, escaped.
    public static func field(_ value: Any?, default fallback: String = "?") -> String {
        guard let value else { return fallback }
        return escaped("\(value)")
    }

    static func visible(_ scalar: Unicode.Scalar) -> String {
        if scalar.value < 0x80 {
            return (0x20...0x7E).contains(scalar.value) ? String(scalar) : ClientText.hex(UInt8(scalar.value))
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            return String(scalar)
        }
    }
}
