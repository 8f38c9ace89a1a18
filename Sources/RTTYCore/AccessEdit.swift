/// `rttyctl grant` and `revoke` as edits of the ACL text: comments, blank lines and the
/// order of the other lines stay as they are. Because the first matching line decides
/// (see `AccessList`), a grant goes just before the first line that would otherwise decide
/// for that user or group on that console, and a revoke that cannot simply remove a line
/// (access through a glob, a group or `*`) adds a `none` line in the same place.
public enum AccessEdit {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Who is being granted or revoked: a user name or `%group` (not `*`).
    public struct Grantee: Sendable {
        let word: String
        let subject: AccessList.Subject
        /// The user's groups, to see which `%group` lines apply to them.
        let groups: [String]

        public init(_ word: String, groups: [String]) throws(Failure) {
            guard let subject = AccessList.subject(word), subject != .everyone else {
                throw Failure(description: "\"\(word)\" is not a user name or %group")
            }
            self.word = word
            self.subject = subject
            self.groups = groups
        }
    }

    /// Gives `grantee` `rights` on each console (a name or a glob).
    public static func grant(_ text: String, grantee: Grantee, consoles: [String], rights: AccessList.Rights, note: String) throws(Failure) -> String {
        try check(consoles)
        var lines = Lines(text)
        for console in consoles {
            lines.removeExact(console, of: grantee)
            let at = lines.firstDeciding(grantee, console)?.line
            lines.insert(rule(grantee.word, [console], rights, note), beforeLine: at)
        }
        return lines.text
    }

    /// Takes `consoles` (nil: every console) away from `grantee`; `known` are the console
    /// names in the configuration, to check that nothing still lets the user in.
    public static func revoke(_ text: String, grantee: Grantee, consoles: [String]?, known: [String], note: String) throws(Failure) -> String {
        var lines = Lines(text)
        guard let consoles else {
            lines.removeAll(of: grantee)
            let stillAllowed = known.compactMap { lines.firstDeciding(grantee, $0) }.filter { $0.rights != .none }
            if let first = stillAllowed.min(by: { $0.line < $1.line }) {
                lines.insert(rule(grantee.word, ["*"], .none, note), beforeLine: first.line)
            }
            return lines.text
        }
        try check(consoles)
        for console in consoles {
            lines.removeExact(console, of: grantee)
            if let deciding = lines.firstDeciding(grantee, console), deciding.rights != .none {
                lines.insert(rule(grantee.word, [console], .none, note), beforeLine: deciding.line)
            }
        }
        return lines.text
    }

    private static func check(_ consoles: [String]) throws(Failure) {
        guard !consoles.isEmpty else { throw Failure(description: "name at least one console") }
        for console in consoles where !AccessList.isPattern(console) {
            throw Failure(description: "\"\(console)\" is not a console name or glob")
        }
    }

    private static func rule(_ who: String, _ consoles: [String], _ rights: AccessList.Rights, _ note: String) -> String {
        "\(who) \(consoles.joined(separator: ",")) \(rights.rawValue)" + (note.isEmpty ? "" : "  # \(note)")
    }

    /// The file as lines, re-parsed after every change so line numbers stay true.
    private struct Lines {
        var lines: [String]
        var list: AccessList

        init(_ text: String) {
            // The same lines AccessList numbers (CRLF and a byte order mark are not kept).
            lines = TextLines.split(text)
            if lines.last == "" { lines.removeLast() }
            list = AccessList(parsing: text, file: "")
        }

        var text: String { lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n" }

        private mutating func reparse() { list = AccessList(parsing: text, file: "") }

        /// The first rule that would decide for the grantee on this console.
        func firstDeciding(_ grantee: Grantee, _ console: String) -> AccessList.Rule? {
            list.rules.first { rule in
                guard rule.consoles.contains(where: { $0 == console || Glob.matches($0, console) }) else { return false }
                switch (rule.subject, grantee.subject) {
                case (.everyone, _): return true
                case (.user(let a), .user(let b)): return a == b
                case (.group(let g), .user): return grantee.groups.contains(g)
                case (.group(let a), .group(let b)): return a == b
                case (.user, .group): return false
                case (_, .everyone): return false
                }
            }
        }

        /// Drops `console` from the grantee's own lines that name it exactly.
        mutating func removeExact(_ console: String, of grantee: Grantee) {
            for rule in list.rules.reversed() where rule.subject == grantee.subject && rule.consoles.contains(console) {
                let rest = rule.consoles.filter { $0 != console }
                if rest.isEmpty {
                    lines.remove(at: rule.line - 1)
                } else {
                    let comment = lines[rule.line - 1].unicodeScalars.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first
                    lines[rule.line - 1] = AccessEdit.rule(grantee.word, rest, rule.rights, comment.map { Substring(String(String.UnicodeScalarView($0))).trimmingSpaces } ?? "")
                }
            }
            reparse()
        }

        mutating func removeAll(of grantee: Grantee) {
            for rule in list.rules.reversed() where rule.subject == grantee.subject {
                lines.remove(at: rule.line - 1)
            }
            reparse()
        }

        mutating func insert(_ line: String, beforeLine number: Int?) {
            lines.insert(line, at: number.map { $0 - 1 } ?? lines.count)
            reparse()
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
