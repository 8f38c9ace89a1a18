/// A key as TOML names it, part by part: ["console", "lab.1", "baud"] is the key that
/// `[console."lab.1"]` and `baud = ...` make. Parts are names, never split again, so a
/// console name with a dot stays one part.
struct TOMLKeyPath: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    let parts: [String]

    init(_ parts: [String]) { self.parts = parts }

    /// A literal names bare keys only: "control.admin_group".
    init(stringLiteral text: String) { parts = text.split(separator: ".").map(String.init) }

    static func + (key: TOMLKeyPath, part: String) -> TOMLKeyPath { TOMLKeyPath(key.parts + [part]) }

    /// As TOML writes it: bare parts as they are, others quoted, with anything that is
    /// not printable made visible (a config error may name what a file put in a name).
    var description: String {
        parts.map { part in
            guard part.isEmpty || !part.unicodeScalars.allSatisfy(TOMLKeyPath.isBare) else { return part }
            return "\"" + TerminalText.escaped(part).map { $0 == "\"" ? "\\\"" : String($0) }.joined() + "\""
        }.joined(separator: ".")
    }

    static func isBare(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-": return true
        default: return false
        }
    }
}

/// Where each key of a TOML document first appears (1-based lines), for error messages
/// and for the order of the consoles (toml++ gives keys sorted, not in file order). It
/// reads TOML's own key syntax, so a table is found however its header is spelled:
/// `[ console.pbx ]`, `[console."lab.1"]`, `[console.'pbx']`, `[console]` with
/// `pbx.device = ...`, or an inline table; text inside strings (a multi-line string
/// holding "[console.x]") is never taken for a header. Lines end at LF (a CRLF file counts
/// the same). Run on text toml++ has accepted; on anything else it still ends, with a
/// best-effort index.
public struct TOMLKeyLines: Sendable {
    private var lines: [[String]: Int] = [:]
    /// Keys inside the Nth table of an array of tables (`[[console.pbx.trigger]]`), where
    /// every element has the same path; `key` [] is the element's header.
    private var elementLines: [ElementKey: Int] = [:]

    private struct ElementKey: Hashable, Sendable {
        let array: [String]
        let index: Int
        let key: [String]
    }

    public init(_ text: String) {
        var scanner = Scanner(Array(text.unicodeScalars))
        scanner.document { path, line, element in
            if let (array, index) = element {
                let key = ElementKey(array: array, index: index, key: Array(path.dropFirst(array.count)))
                if elementLines[key] == nil { elementLines[key] = line }
            }
            // A key's first appearance also makes each table above it appear there.
            for end in path.indices {
                let prefix = Array(path[...end])
                if lines[prefix] == nil { lines[prefix] = line }
            }
        }
    }

    /// The line of `key` in element `index` (from 0) of the array of tables `array`, else
    /// of that element's header, else of the array.
    func line(of array: TOMLKeyPath, element index: Int, key: String?) -> Int? {
        if let key, let line = elementLines[ElementKey(array: array.parts, index: index, key: [key])] { return line }
        return elementLines[ElementKey(array: array.parts, index: index, key: [])] ?? line(of: array)
    }

    /// The line of `key`, else of the nearest table above it that the file names.
    func line(of key: TOMLKeyPath) -> Int? {
        var path = key.parts
        while !path.isEmpty {
            if let line = lines[path] { return line }
            path.removeLast()
        }
        return nil
    }

    private struct Scanner {
        let text: [Unicode.Scalar]
        var i = 0
        var line = 1

        init(_ text: [Unicode.Scalar]) { self.text = text }

        var peek: Unicode.Scalar? { i < text.count ? text[i] : nil }

        mutating func advance() {
            if text[i] == "\n" { line += 1 }
            i += 1
        }

        func starts(_ c: Unicode.Scalar, times: Int) -> Bool {
            i + times <= text.count && text[i..<i + times].allSatisfy { $0 == c }
        }

        /// Spaces and tabs; with `newlines`, also line ends and comments (inside arrays).
        mutating func skipBlank(newlines: Bool = false) {
            while let c = peek {
                if c == " " || c == "\t" || c == "\r" {
                    i += 1
                } else if newlines && c == "\n" {
                    advance()
                } else if newlines && c == "#" {
                    while let c = peek, c != "\n" { i += 1 }
                } else {
                    return
                }
            }
        }

        /// `found(path, line, element)`: element is the array of tables and the index
        /// within it of the table being read, when it is one.
        mutating func document(_ found: ([String], Int, ([String], Int)?) -> Void) {
            var table: [String] = []
            var element: ([String], Int)?
            var elements: [[String]: Int] = [:]
            while peek != nil {
                let before = i
                skipBlank(newlines: true)
                guard let c = peek else { return }
                let start = line
                if c == "[" {
                    i += 1
                    let isArray = peek == "["  // [[array of tables]]
                    if isArray { i += 1 }
                    table = keyPath()
                    if isArray {
                        element = (table, elements[table, default: 0])
                        elements[table, default: 0] += 1
                    } else {
                        element = nil
                    }
                    found(table, start, element)
                } else {
                    let key = keyPath()
                    if !key.isEmpty { found(table + key, start, element) }
                    skipBlank()
                    if peek == "=" { i += 1 }
                    value(at: key.isEmpty ? nil : table + key) { found($0, $1, element) }
                }
                // The rest of the line: "]", "]]", a comment.
                while let c = peek, c != "\n" { i += 1 }
                if i == before { advance() }
            }
        }

        /// Dotted key parts, bare or quoted, with blanks around the dots.
        mutating func keyPath() -> [String] {
            var parts: [String] = []
            while true {
                skipBlank()
                guard let c = peek else { break }
                if c == "\"" || c == "'" {
                    parts.append(string())
                } else if TOMLKeyPath.isBare(c) {
                    var part = ""
                    while let c = peek, TOMLKeyPath.isBare(c) {
                        part.unicodeScalars.append(c)
                        i += 1
                    }
                    parts.append(part)
                } else {
                    break
                }
                skipBlank()
                guard peek == "." else { break }
                i += 1
            }
            return parts
        }

        /// Skips one value; the keys of an inline table are found under `path`.
        mutating func value(at path: [String]?, _ found: ([String], Int) -> Void) {
            skipBlank()
            guard let c = peek else { return }
            switch c {
            case "\"", "'":
                _ = string()
            case "[", "{":
                let close: Unicode.Scalar = c == "[" ? "]" : "}"
                i += 1
                while true {
                    skipBlank(newlines: true)
                    guard let c = peek else { return }
                    if c == close {
                        i += 1
                        return
                    }
                    let before = i
                    if c == "," {
                        i += 1
                    } else if close == "]" {
                        value(at: nil, found)
                    } else {
                        let start = line
                        let key = keyPath()
                        let inner = path.map { $0 + key }
                        if let inner, !key.isEmpty { found(inner, start) }
                        skipBlank()
                        if peek == "=" { i += 1 }
                        value(at: key.isEmpty ? nil : inner, found)
                    }
                    if i == before { advance() }
                }
            default:
                // A number, boolean or date: up to what ends a value.
                while let c = peek, !" \t\r\n,]}#".unicodeScalars.contains(c) { i += 1 }
            }
        }

        /// At a quote: the string's text, escapes decoded, and the scanner after its end.
        mutating func string() -> String {
            let quote = text[i]
            let multiLine = starts(quote, times: 3)
            i += multiLine ? 3 : 1
            var decoded = ""
            while let c = peek {
                if multiLine ? starts(quote, times: 3) : c == quote {
                    // Up to two more quotes at the end of a multi-line string belong to it.
                    while multiLine && starts(quote, times: 4) { i += 1 }
                    i += multiLine ? 3 : 1
                    break
                }
                if c == "\n" && !multiLine { break }  // not TOML; end the string with its line
                if c == "\\" && quote == "\"" {
                    i += 1
                    decoded.unicodeScalars.append(escape())
                } else {
                    decoded.unicodeScalars.append(c)
                    advance()
                }
            }
            return decoded
        }

        /// After a backslash in a basic string.
        mutating func escape() -> Unicode.Scalar {
            guard let c = peek else { return "\\" }
            let simple: [Unicode.Scalar: Unicode.Scalar] = ["b": "\u{8}", "t": "\t", "n": "\n", "f": "\u{C}", "r": "\r", "e": "\u{1B}"]
            if let scalar = simple[c] {
                i += 1
                return scalar
            }
            if c == "u" || c == "U" {
                let digits = c == "u" ? 4 : 8
                let hex = text[min(i + 1, text.count)..<min(i + 1 + digits, text.count)]
                if hex.count == digits, let value = UInt32(String(String.UnicodeScalarView(hex)), radix: 16), let scalar = Unicode.Scalar(value) {
                    i += 1 + digits
                    return scalar
                }
            }
            advance()  // \" \\ and, in a multi-line string, a line-ending backslash
            return c
        }
    }
}
