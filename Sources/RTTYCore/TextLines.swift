/// The lines of a text file as its bytes have them, for every parser of the project's
/// files (ACL, rtty.conf line numbers, classic option files). Swift's `Character` is a
/// grapheme cluster, so "\r\n" is one Character and "\n" never splits it, and a space or
/// `#` followed by a combining mark or a zero-width joiner is one Character equal to
/// neither: splitting a String by Characters read a CRLF file as one line and skipped
/// fields. Here lines end at each LF byte, a CR before it is dropped, and a UTF-8 byte
/// order mark at the start of the file is removed.
public enum TextLines {
    public static let byteOrderMark: Unicode.Scalar = "\u{FEFF}"

    public static func split(_ text: String) -> [String] {
        var scalars = Substring(text).unicodeScalars
        if scalars.first == byteOrderMark { scalars.removeFirst() }
        return scalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var line = line
            if line.last == "\r" { line.removeLast() }
            return String(String.UnicodeScalarView(line))
        }
    }

    /// Splits one line into fields at spaces and tabs, by scalar (see above).
    public static func fields(_ line: some StringProtocol) -> [String] {
        line.unicodeScalars.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { String(String.UnicodeScalarView($0)) }
    }
}
