/// A trigger (`[[console.NAME.trigger]]`, `[[defaults.trigger]]`): a regular expression
/// matched against each line a console prints, and what rttyd does when it matches.
/// Built only by the config parser, which has compiled the pattern once to check it.
public struct Trigger: Equatable, Sendable {
    public static let maxNameLength = 64
    /// The longest pattern accepted: patterns are written by admins, but a bound keeps a
    /// mistaken paste from becoming a per-line cost.
    public static let maxPatternLength = 1024
    public static let commandTimeoutRange = 1...3600
    public static let commandIntervalRange = 1...86_400

    public var name: String
    /// The regular expression as written (Swift Regex syntax, PCRE-like), matched
    /// anywhere in a line by Unicode scalars.
    public var pattern: String
    /// Actions: an audit record, a notice to attached clients, a mark in the console log.
    public var audit = true
    public var notice = true
    public var mark = true
    /// An argv run by rttyd, never through a shell; empty = none.
    public var command: [String] = []
    /// The least time between two runs of the command, in seconds.
    public var commandInterval = 60
    /// A command still running after this many seconds is killed (SIGTERM, then SIGKILL).
    public var commandTimeout = 30

    public init(name: String, pattern: String) {
        self.name = name
        self.pattern = pattern
    }

    /// The pattern compiled as the matcher uses it, or why it cannot be.
    public static func compile(_ pattern: String) -> Result<Regex<AnyRegexOutput>, TriggerPatternError> {
        guard pattern.utf8.count <= maxPatternLength else {
            return .failure(TriggerPatternError(message: "the pattern is longer than \(maxPatternLength) bytes"))
        }
        guard !pattern.isEmpty else { return .failure(TriggerPatternError(message: "the pattern is empty")) }
        do {
            // Scalars, not grapheme clusters: a pattern means what it would to grep, and
            // the matcher's literal prefilter (`RequiredLiteral`) relies on it.
            return .success(try Regex(pattern).matchingSemantics(.unicodeScalar))
        } catch {
            return .failure(TriggerPatternError(message: "not a regular expression: \(error)"))
        }
    }

    /// nil when valid, else why: names appear in audit records, notices, the console log
    /// and a command's environment, so they are the console-name alphabet.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a trigger name must not be empty" }
        if name.utf8.count > maxNameLength { return "a trigger name is at most \(maxNameLength) bytes" }
        guard name.unicodeScalars.allSatisfy(ConsoleName.isAllowed) else {
            return "a trigger name is ASCII letters, digits and . _ - + @ :"
        }
        return nil
    }
}

public struct TriggerPatternError: Error, Sendable {
    public let message: String
}

/// A byte string every line a pattern matches must contain, found conservatively from the
/// pattern's text, so that most lines are passed over by a byte scan and only the few that
/// hold the literal are given to the regular expression engine (which costs microseconds a
/// line). nil when no such literal is sure: alternation at the top, option groups
/// (`(?i)` could change case), escapes whose meaning depends on what follows. Correct only
/// with scalar matching semantics (`Trigger.compile`).
public enum RequiredLiteral {
    /// Escapes that match a class or a position: they end a literal run.
    private static let classEscapes = Set("dDsSwWbBAzZGhHvVRXntrfea".unicodeScalars)

    /// Whether the pattern is its literal and nothing else (no metacharacter at all), so
    /// finding the literal is the match and the regex engine is not needed.
    public static func isWhole(_ pattern: String) -> Bool {
        !pattern.isEmpty && !pattern.unicodeScalars.contains { "\\.^$|?*+()[]{}#".unicodeScalars.contains($0) || $0 == "\u{FFFD}" }
    }

    public static func of(_ pattern: String) -> [UInt8]? {
        let s = Array(pattern.unicodeScalars)
        var runs: [[Unicode.Scalar]] = []
        var run: [Unicode.Scalar] = []
        var depth = 0
        var i = 0
        func endRun() {
            if !run.isEmpty { runs.append(run) }
            run = []
        }
        while i < s.count {
            let c = s[i]
            i += 1
            switch c {
            case "\\":
                guard i < s.count else { return nil }
                let e = s[i]
                i += 1
                if classEscapes.contains(e) {
                    endRun()
                } else if e.properties.isAlphabetic || ("0"..."9").contains(e) {
                    return nil  // \x41, \u{..}, \p{..}, \1, \Q...: not taken apart here
                } else if depth == 0 {
                    run.append(e)
                }
            case "(":
                if i < s.count && s[i] == "?" && depth == 0 && (i + 1 >= s.count || s[i + 1] != ":") { return nil }
                depth += 1
                endRun()
            case ")":
                depth -= 1
                endRun()
            case "[":
                // A class: skipped to its end (a ']' first in it is a member).
                if i < s.count && s[i] == "^" { i += 1 }
                if i < s.count && s[i] == "]" { i += 1 }
                while i < s.count && s[i] != "]" { i += s[i] == "\\" ? 2 : 1 }
                i += 1
                endRun()
            case "|":
                if depth == 0 { return nil }
            case "*", "?", "{":
                // The scalar before may be absent: it is no part of the literal.
                if c == "{" {
                    guard isQuantifier(s, from: i) else { return nil }
                    while s[i] != "}" { i += 1 }
                    i += 1
                }
                if !run.isEmpty { run.removeLast() }
                endRun()
            case "+", ".", "^", "$":
                endRun()
            default:
                if depth == 0 && c != "\u{FFFD}" { run.append(c) } else { endRun() }
            }
        }
        endRun()
        guard let longest = runs.max(by: { String(String.UnicodeScalarView($0)).utf8.count < String(String.UnicodeScalarView($1)).utf8.count }) else {
            return nil
        }
        return Array(String(String.UnicodeScalarView(longest)).utf8)
    }

    /// After `{`: digits, optionally `,` and digits, then `}`.
    private static func isQuantifier(_ s: [Unicode.Scalar], from start: Int) -> Bool {
        var i = start
        var digits = 0
        while i < s.count, ("0"..."9").contains(s[i]) {
            i += 1
            digits += 1
        }
        if i < s.count, s[i] == "," { i += 1 }
        while i < s.count, ("0"..."9").contains(s[i]) { i += 1 }
        return digits > 0 && i < s.count && s[i] == "}"
    }
}
