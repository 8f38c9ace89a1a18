/// Checks a config's text for characters TOML 1.0 does not allow outside quoted strings
/// and comments before TOMLKit sees it: its toml++ core asserts, and so would crash the
/// program, on some such input (a non-ASCII or punctuation character in a bare key, found
/// by fuzzing), where it should report an error.
enum TOMLPrecheck {
    private enum State { case normal, comment, basic, literal, multiBasic, multiLiteral }

    /// Everything TOML 1.0 has outside strings and comments: bare keys, numbers, booleans,
    /// dates and times, and the punctuation between them.
    static func allowedOutsideStrings(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", " ", "\t", "\r", "_", "-", ".", "=", "[", "]", "{", "}", ",", "+", ":": return true
        default: return false
        }
    }

    static func check(_ text: String, file: String) throws(ConfigError) {
        let scalars = Array(text.unicodeScalars)
        var state = State.normal
        var line = 1
        var i = 0
        // Where a key must come next, a comment is not TOML (and toml++ asserts on it): in a
        // table header before its "]", or right after a "." of a dotted key.
        var inHeader = false
        var lastSignificant: Unicode.Scalar = "\n"
        var lineHasContent = false
        func starts(_ s: String, at index: Int) -> Bool {
            let needle = Array(s.unicodeScalars)
            return index + needle.count <= scalars.count && Array(scalars[index..<index + needle.count]) == needle
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == "\n" {
                line += 1
                inHeader = false
                lineHasContent = false
                lastSignificant = "\n"
                if state == .comment || state == .basic || state == .literal { state = .normal }
                i += 1
                continue
            }
            switch state {
            case .normal:
                if c == "#" && (inHeader || lastSignificant == ".") {
                    throw ConfigError(file: file, line: line, key: nil, message: "a comment where a key must come (inside [...] or after a dot)")
                }
                if c != " " && c != "\t" && c != "\r" && c != "#" {
                    if c == "[" && !lineHasContent { inHeader = true }
                    if c == "]" { inHeader = false }
                    lineHasContent = true
                    lastSignificant = c
                }
                if c == "#" {
                    state = .comment
                } else if starts("\"\"\"", at: i) {
                    state = .multiBasic
                    i += 2
                } else if starts("'''", at: i) {
                    state = .multiLiteral
                    i += 2
                } else if c == "\"" {
                    state = .basic
                } else if c == "'" {
                    state = .literal
                } else if !TOMLPrecheck.allowedOutsideStrings(c) {
                    let shown = c.value > 0x20 && c.value < 0x7F ? "'\(Character(c))'" : "U+\(String(c.value, radix: 16, uppercase: true))"
                    throw ConfigError(
                        file: file, line: line, key: nil,
                        message: "character \(shown) outside a quoted string: bare TOML keys are letters, digits, _ and - (quote a name, e.g. [console.\"lab-1\"])")
                }
            case .comment:
                break
            case .basic:
                if c == "\\" {
                    i += 1
                } else if c == "\"" {
                    state = .normal
                }
            case .literal:
                if c == "'" { state = .normal }
            case .multiBasic:
                if c == "\\" {
                    i += 1
                } else if starts("\"\"\"", at: i) {
                    state = .normal
                    i += 2
                }
            case .multiLiteral:
                if starts("'''", at: i) {
                    state = .normal
                    i += 2
                }
            }
            i += 1
        }
    }
}
