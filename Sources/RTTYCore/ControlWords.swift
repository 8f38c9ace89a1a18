/// The rule on the names a control request carries (users, groups, consoles, sessions,
/// settings). Born of the word form, a line of words separated by single spaces, where a
/// word holding a space arrived as two (`rttyctl grant ro 'rtm guests' pbx` became a grant
/// to rtm of consoles guests and pbx); kept for the typed `ControlRequest`, whose values
/// name things that hold no space or invisible character either, and for the word form
/// the daemon still takes for one release.
public enum ControlWords {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// nil when `word` can be a word of a request, else why not.
    public static func problem(_ word: String) -> String? {
        if word.isEmpty { return "an empty argument" }
        for scalar in word.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .spaceSeparator, .lineSeparator, .paragraphSeparator:
                return "\"\(TerminalText.escaped(word))\" holds a space; arguments are single words (user, group and console names have none)"
            case .control, .format, .surrogate, .privateUse, .unassigned:
                return "\"\(TerminalText.escaped(word))\" holds a control or invisible character"
            default:
                continue
            }
        }
        return nil
    }

    /// The words of a request line; throws naming the first word no request may hold
    /// (including an empty word from a doubled, leading or trailing space).
    public static func split(_ line: String) throws(Failure) -> [String] {
        let words = line.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        for word in words {
            if let problem = problem(word) { throw Failure(description: "request refused: \(problem)") }
        }
        return words
    }
}
