/// Checks a config's text before toml++ sees it. toml++ (as built in TOMLKit, used before) asserted, aborting the
/// program, when a key starts with a character no key can start with (found by fuzzing:
/// `[ = x]`, `[#...]`, a backtick or a non-ASCII byte in a bare key), where it should
/// report an error. A bad rtty.conf must be an error with a line number, never a crash of
/// rttyd at reload or of rtty-shell at login, so this scanner follows TOML 1.0 far enough
/// to know where keys start and rejects what cannot be there, and any character TOML
/// forbids outside strings and comments.
enum TOMLPrecheck {
    private enum Lexical { case normal, comment, basic, literal, multiBasic, multiLiteral }

    static func allowedOutsideStrings(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", " ", "\t", "\r", "_", "-", ".", "=", "[", "]", "{", "}", ",", "+", ":": return true
        default: return false
        }
    }

    static func startsKey(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", "\"", "'": return true
        default: return false
        }
    }

    /// Strings, numbers, booleans, inf/nan, dates, arrays, inline tables.
    static func startsValue(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "\"", "'", "0"..."9", "+", "-", "t", "f", "i", "n", "[", "{": return true
        default: return false
        }
    }

    static func check(_ text: String, file: String) throws(ConfigError) {
        let scalars = Array(text.unicodeScalars)
        var lexical = Lexical.normal
        var line = 1
        var i = 0
        // Open arrays ("[") and inline tables ("{") of the value being read.
        var nesting: [Unicode.Scalar] = []
        var lineStart = true  // nothing significant on this line yet
        var inHeader = false
        var beforeEquals = true  // in the key part of a key/value (or of an inline table entry)
        var expectKey = true
        var expectValue = false

        func fail(_ message: String) -> ConfigError {
            ConfigError(file: file, line: line, key: nil, message: message)
        }
        func shown(_ c: Unicode.Scalar) -> String {
            c.value > 0x20 && c.value < 0x7F ? "'\(Character(c))'" : "U+\(String(c.value, radix: 16, uppercase: true))"
        }
        func starts(_ s: String, at index: Int) -> Bool {
            let needle = Array(s.unicodeScalars)
            return index + needle.count <= scalars.count && Array(scalars[index..<index + needle.count]) == needle
        }

        while i < scalars.count {
            let c = scalars[i]
            if c == "\r" && !starts("\r\n", at: i) && lexical != .multiBasic && lexical != .multiLiteral {
                throw fail("a carriage return that does not end a line")
            }
            if c == "\n" {
                line += 1
                if lexical == .comment || lexical == .basic || lexical == .literal { lexical = .normal }
                if lexical == .normal {
                    if inHeader { throw fail("a table header must end with ] on its line") }
                    lineStart = true
                    if nesting.isEmpty {
                        beforeEquals = true
                        expectKey = true
                    }
                }
                i += 1
                continue
            }
            switch lexical {
            case .comment:
                break
            case .basic:
                if c == "\\" { i += 1 } else if c == "\"" { lexical = .normal }
            case .literal:
                if c == "'" { lexical = .normal }
            case .multiBasic:
                if c == "\\" {
                    i += 1
                } else if starts("\"\"\"", at: i) {
                    lexical = .normal
                    i += 2
                }
            case .multiLiteral:
                if starts("'''", at: i) {
                    lexical = .normal
                    i += 2
                }
            case .normal:
                if c == " " || c == "\t" || c == "\r" { break }
                if c == "#" {
                    if expectKey && !lineStart { throw fail("a comment where a key must come") }
                    if inHeader { throw fail("a comment inside a table header") }
                    lexical = .comment
                    break
                }
                guard allowedOutsideStrings(c) || c == "\"" || c == "'" else {
                    throw fail("character \(shown(c)) outside a quoted string: bare TOML keys are letters, digits, _ and - (quote a name, e.g. [console.\"lab-1\"])")
                }
                if lineStart && nesting.isEmpty && c == "[" {
                    // A table header: [name] or [[name]].
                    inHeader = true
                    expectKey = true
                    lineStart = false
                    if starts("[[", at: i) { i += 1 }
                    break
                }
                if expectValue {
                    let closesArray = c == "]" && nesting.last == "["
                    guard closesArray || startsValue(c) else {
                        throw fail("\(shown(c)) where a value must come")
                    }
                    expectValue = false
                }
                if expectKey {
                    if c == "}" && nesting.last == "{" {
                        // An empty inline table: {}.
                    } else if !startsKey(c) {
                        throw fail("\(shown(c)) where a key must come (keys are letters, digits, _ and -, or quoted)")
                    }
                    expectKey = false
                }
                lineStart = false
                if c == "\"" {
                    lexical = starts("\"\"\"", at: i) ? .multiBasic : .basic
                    if lexical == .multiBasic { i += 2 }
                    break
                }
                if c == "'" {
                    lexical = starts("'''", at: i) ? .multiLiteral : .literal
                    if lexical == .multiLiteral { i += 2 }
                    break
                }
                if inHeader {
                    if c == "." {
                        expectKey = true
                    } else if c == "]" {
                        inHeader = false
                        if starts("]]", at: i) { i += 1 }
                    }
                    break
                }
                switch c {
                case "." where beforeEquals:
                    expectKey = true
                case "=":
                    beforeEquals = false
                    expectValue = true
                case "[":
                    nesting.append("[")
                    expectValue = true
                case "{":
                    nesting.append("{")
                    beforeEquals = true
                    expectKey = true
                case "]", "}":
                    if !nesting.isEmpty { nesting.removeLast() }
                    if nesting.last == "{" { beforeEquals = false }
                case "," where nesting.last == "{":
                    beforeEquals = true
                    expectKey = true
                case "," where nesting.last == "[":
                    expectValue = true
                default:
                    break
                }
            }
            i += 1
        }
    }
}
