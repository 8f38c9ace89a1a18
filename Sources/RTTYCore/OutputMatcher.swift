/// Waits for a pattern in console output (`rttyctl expect`, the agent server's `wait_for`):
/// a regular expression (Swift Regex syntax) matched against the output fed so far with its
/// escape sequences taken out (`EscapeStripper`), so a prompt reads as it looks. The text
/// searched is the last `maxKept` bytes: a match may span reads, and a console that prints
/// megabytes without matching costs bounded memory.
public struct OutputMatcher {
    public static let maxKept = 65_536

    public struct BadPattern: Error, CustomStringConvertible {
        public let description: String
    }

    private let regex: Regex<AnyRegexOutput>
    private var stripper = EscapeStripper()
    private var kept: [UInt8] = []

    public init(pattern: String) throws(BadPattern) {
        guard !pattern.isEmpty else { throw BadPattern(description: "the pattern is empty") }
        do {
            regex = try Regex(pattern)
        } catch {
            throw BadPattern(description: "pattern \(TerminalText.escaped(pattern)) is not a regular expression: \(error)")
        }
    }

    /// Feeds output; returns the matched text once the pattern matches. After a match the
    /// text up to its end is forgotten, so the next match is of later output.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> String? {
        kept += stripper.feed(bytes)
        if kept.count > Self.maxKept { kept.removeFirst(kept.count - Self.maxKept) }
        let text = String(decoding: kept, as: UTF8.self)
        guard let match = text.firstMatch(of: regex) else { return nil }
        let matched = String(text[match.range])
        kept = Array(text[match.range.upperBound...].utf8)
        return matched
    }

    /// The text searched so far (for a timeout message: what the console said instead).
    public var recentText: String { String(decoding: kept.suffix(200), as: UTF8.self) }
}
