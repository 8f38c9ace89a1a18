/// The JSON rtty still writes by hand: a transcript answer, streamed in chunks as the peer
/// reads it as one JSON string, and asciicast lines, which an encoder would have to hold
/// whole; also quoted text where JSON's quoting is wanted (TOML basic strings in the
/// classic importer, a request line in the daemon's log). Audit records and control
/// answers are Encodable types, written by a JSON encoder.
public enum JSON {
    public static func quote(_ text: String) -> String { "\"" + escape(text) + "\"" }

    /// The inside of a JSON string, without its quotes (answers streamed in chunks).
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    public static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}
