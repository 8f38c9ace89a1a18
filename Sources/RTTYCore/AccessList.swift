/// The ACL (`/etc/rtty/access`, rtty.access(5)): who may use which consoles.
///
///     # who      consoles          rights
///     vixie      *                 rw
///     %ops       pbx,util,lab*     rw
///     guest      guests            ro
///     mallory    *                 none
///
/// How lines combine: the FIRST line that matches both the user (by name, by `%group`,
/// or `*` for everyone) and the console (a name or a glob with `*`, `?`, `[...]`) decides.
/// So a later line can never widen what an earlier one decided, denials included
/// (`none`). No matching line: no access. Root is decided elsewhere (always allowed).
/// Lines end at LF bytes (CRLF accepted, a leading byte order mark removed: `TextLines`).
/// A line whose rights word is not rw/ro/none counts as `none` for what it names. A line
/// that cannot be read otherwise (bad user or console field, wrong number of fields, over
/// `maxLineLength`) counts as `* CONSOLES none`, CONSOLES being its console field when that
/// can be read, else `*`: it may have been a denial, so it denies everyone it could have
/// named. Both are reported. (Refusing the whole file instead would keep the previous
/// list at a reload, so a denial added with a typo elsewhere would not take effect.)
public struct AccessList: Equatable, Sendable {
    public enum Rights: String, Equatable, Sendable, Comparable {
        case none, ro, rw

        public static func < (a: Rights, b: Rights) -> Bool {
            let order: [Rights] = [.none, .ro, .rw]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    public enum Subject: Equatable, Sendable {
        case user(String)
        case group(String)
        case everyone
    }

    public struct Rule: Equatable, Sendable {
        public var subject: Subject
        public var consoles: [String]
        public var rights: Rights
        public var line: Int
    }

    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public static let maxLineLength = 4096
    public private(set) var rules: [Rule] = []
    public private(set) var problems: [Problem] = []

    /// An ACL that lets nobody in (missing or unreadable file).
    public init() {}

    public init(parsing text: String, file: String) {
        for (index, line) in TextLines.split(text).enumerated() {
            let number = index + 1
            // A line that cannot be read is never skipped: whatever it meant (perhaps a
            // `none`), it denies everyone the consoles it names, or every console when
            // even that field cannot be read. Lines above it still decide first.
            func unreadable(_ message: String, consoles: [String] = ["*"]) {
                let named = consoles.joined(separator: ",")
                problems.append(Problem(file: file, line: number, message: message + "; read as \"* \(named) none\" (nobody but root may use \(named == "*" ? "any console" : named) from this line on)"))
                rules.append(Rule(subject: .everyone, consoles: consoles, rights: .none, line: number))
            }
            guard line.utf8.count <= AccessList.maxLineLength else {
                unreadable("line longer than \(AccessList.maxLineLength) bytes")
                continue
            }
            let content = line.unicodeScalars.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map { String(String.UnicodeScalarView($0)) } ?? ""
            let words = TextLines.fields(content)
            if words.isEmpty { continue }
            guard words.count == 3 else {
                unreadable("expected three fields: who consoles rights (e.g. \"vixie pbx,lab* rw\"), got \(words.count)")
                continue
            }
            let consoles = words[1].split(separator: ",").map(String.init)
            guard !consoles.isEmpty, consoles.allSatisfy(AccessList.isPattern) else {
                unreadable("bad console list \"\(TerminalText.escaped(words[1]))\": expected names or globs separated by commas")
                continue
            }
            guard let subject = AccessList.subject(words[0]) else {
                unreadable("bad user \"\(TerminalText.escaped(words[0]))\": expected a user name, %group or *", consoles: consoles)
                continue
            }
            var rights = Rights(rawValue: words[2].lowercased())
            if rights == nil {
                problems.append(Problem(file: file, line: number, message: "bad rights \"\(TerminalText.escaped(words[2]))\": expected rw, ro or none; treated as none"))
                rights = Rights.none
            }
            rules.append(Rule(subject: subject, consoles: consoles, rights: rights!, line: number))
        }
    }

    /// The rights of a user (name and group names) on a console, and the line that decided.
    public func decide(user: String, groups: [String], console: String) -> (rights: Rights, line: Int?) {
        for rule in rules where rule.matches(user: user, groups: groups) {
            if rule.consoles.contains(where: { Glob.matches($0, console) }) {
                return (rule.rights, rule.line)
            }
        }
        return (.none, nil)
    }

    static func subject(_ word: String) -> Subject? {
        if word == "*" { return .everyone }
        if word.hasPrefix("%") {
            let name = String(word.dropFirst())
            return isName(name) ? .group(name) : nil
        }
        return isName(word) ? .user(word) : nil
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-$".unicodeScalars.contains($0) }
    }

    /// A console name or a glob: the characters of a name (`ConsoleName`) and `*?[]!`.
    static func isPattern(_ pattern: String) -> Bool {
        !pattern.isEmpty && pattern.unicodeScalars.allSatisfy { ConsoleName.isAllowed($0) || "*?[]!".unicodeScalars.contains($0) }
    }
}

extension AccessList.Rule {
    func matches(user: String, groups: [String]) -> Bool {
        switch subject {
        case .everyone: return true
        case .user(let name): return name == user
        case .group(let name): return groups.contains(name)
        }
    }
}

/// Shell-style globs for console names: `*`, `?`, and `[abc]` / `[a-z]` / `[!a]`.
public enum Glob {
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        match(Array(pattern.unicodeScalars), 0, Array(name.unicodeScalars), 0)
    }

    private static func match(_ p: [Unicode.Scalar], _ pi: Int, _ s: [Unicode.Scalar], _ si: Int) -> Bool {
        var pi = pi, si = si
        var starP = -1, starS = -1
        while si < s.count {
            if pi < p.count, p[pi] == "*" {
                starP = pi
                starS = si
                pi += 1
                continue
            }
            if pi < p.count, let next = single(p, pi, s[si]) {
                pi = next
                si += 1
                continue
            }
            guard starP >= 0 else { return false }
            pi = starP + 1
            starS += 1
            si = starS
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// If p[pi] matches the character c, the index after that pattern element.
    private static func single(_ p: [Unicode.Scalar], _ pi: Int, _ c: Unicode.Scalar) -> Int? {
        switch p[pi] {
        case "?": return pi + 1
        case "[":
            var i = pi + 1
            let negate = i < p.count && p[i] == "!"
            if negate { i += 1 }
            var found = false
            var first = true
            while i < p.count && (p[i] != "]" || first) {
                first = false
                if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                    if p[i].value <= c.value && c.value <= p[i + 2].value { found = true }
                    i += 3
                } else {
                    if p[i] == c { found = true }
                    i += 1
                }
            }
            guard i < p.count else { return p[pi] == c ? pi + 1 : nil }  // no closing ]: literal
            return found != negate ? i + 1 : nil
        default:
            return p[pi] == c ? pi + 1 : nil
        }
    }
}
