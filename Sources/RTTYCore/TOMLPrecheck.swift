/// Checks a config's text for what TOML 1.0 forbids outside quoted strings (non-ASCII and
/// control characters) before TOMLKit sees it: its toml++ core asserts, and so would crash
/// the program, on some such input (found by fuzzing), where it should report an error.
enum TOMLPrecheck {
    private enum State { case normal, comment, basic, literal, multiBasic, multiLiteral }

    static func check(_ text: String, file: String) throws(ConfigError) {
        let scalars = Array(text.unicodeScalars)
        var state = State.normal
        var line = 1
        var i = 0
        func starts(_ s: String, at index: Int) -> Bool {
            let needle = Array(s.unicodeScalars)
            return index + needle.count <= scalars.count && Array(scalars[index..<index + needle.count]) == needle
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == "\n" {
                line += 1
                if state == .comment || state == .basic || state == .literal { state = .normal }
                i += 1
                continue
            }
            switch state {
            case .normal:
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
                } else if c.value > 0x7E || (c.value < 0x20 && c != "\t" && c != "\r") {
                    throw ConfigError(
                        file: file, line: line, key: nil,
                        message: "character U+\(String(c.value, radix: 16, uppercase: true)) outside a quoted string: TOML keys are ASCII (quote a name, e.g. [console.\"lab-1\"])")
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
