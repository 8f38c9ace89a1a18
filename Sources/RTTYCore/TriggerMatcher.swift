/// Console output in, trigger matches out: a value fed the device's bytes in chunks as
/// they come. It cuts the stream into lines (at LF; CR and other controls dropped),
/// removes terminal escape sequences (as `EscapeScanner` reads them) so a coloured "BUG:"
/// matches like a plain one, and matches every line against each trigger.
///
/// A line is bounded: after `maxLine` bytes without a newline the bytes so far are matched
/// as a line of their own and the rest goes on as the next one, so a guest that never
/// prints a newline costs no more memory or time than one that does (a match that spans
/// such a cut is missed). Not thread-safe: one owner, the trigger sink's writer thread.
public struct TriggerMatcher {
    public static let maxLine = 4096
    /// The most of a line kept in a `Match` (audit record, mark, a command's environment).
    public static let maxShown = 1024

    public struct Match: Equatable, Sendable {
        /// Index into the triggers the matcher was made with.
        public let trigger: Int
        /// The line as matched (escapes removed), with anything unprintable made visible.
        public let line: String
        /// The part of the line the pattern matched, shown the same way.
        public let matched: String
    }

    private struct Compiled {
        let regex: Regex<AnyRegexOutput>?
        let literal: [UInt8]?
        /// The pattern is its literal: a line holding it matches.
        var whole = false
    }

    private let triggers: [Compiled]
    private let literals: LiteralSet
    /// Triggers without a literal: every line goes to their regex.
    private var always: UInt64 = 0
    /// The line so far, when it did not come whole in one `feed`: the first `lineCount`
    /// bytes of a buffer of `maxLine` (filled in place; an array grown and emptied per
    /// line cost more than the matching). A line that is in the input whole and has no
    /// control byte (most lines) is matched where it lies, never copied.
    private var line = [UInt8](repeating: 0, count: TriggerMatcher.maxLine)
    private var lineCount = 0
    private var scanner = EscapeScanner()

    /// Patterns that do not compile are left out (the parser has refused them already).
    /// At most 64 triggers per console (`ConfigParser` enforces it).
    public init(patterns: [String]) {
        var compiled: [Compiled] = []
        for (index, pattern) in patterns.prefix(64).enumerated() {
            guard case .success(let regex) = Trigger.compile(pattern) else {
                compiled.append(Compiled(regex: nil, literal: nil))
                continue
            }
            let literal = RequiredLiteral.of(pattern)
            compiled.append(Compiled(regex: regex, literal: literal, whole: literal != nil && RequiredLiteral.isWhole(pattern)))
            if literal == nil {
                always |= 1 << UInt64(index)
            }
        }
        triggers = compiled
        literals = LiteralSet(compiled.map(\.literal))
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ found: (Match) -> Void) {
        // The line buffer is taken out of `self` for the call, so that it is written
        // through one pointer, with no uniqueness check per write.
        var buffer: [UInt8] = []
        swap(&buffer, &line)
        defer { swap(&buffer, &line) }
        buffer.withUnsafeMutableBytes { feed(bytes, into: $0, found) }
    }

    private mutating func feed(_ bytes: UnsafeRawBufferPointer, into buffer: UnsafeMutableRawBufferPointer, _ found: (Match) -> Void) {
        var i = 0
        while i < bytes.count {
            if scanner.inText {
                // The common case, text: a run of printable bytes.
                let end = Self.plainRun(bytes, from: i)
                if end > i {
                    var run = UnsafeRawBufferPointer(rebasing: bytes[i..<end])
                    if lineCount == 0 {
                        // Cut where a line would be cut, and matched in place.
                        while run.count >= Self.maxLine {
                            match(UnsafeRawBufferPointer(rebasing: run[..<Self.maxLine]), found)
                            run = UnsafeRawBufferPointer(rebasing: run[Self.maxLine...])
                        }
                        if end < bytes.count && bytes[end] == 0x0A {
                            if !run.isEmpty { match(run, found) }
                            i = end + 1
                            continue
                        }
                    }
                    appendRun(run, buffer, found)
                    i = end
                    continue
                }
            }
            // A control, or a byte of an escape sequence.
            if let byte = scanner.scan(bytes[i]) { take(byte, buffer, found) }
            i += 1
        }
    }

    /// A byte of text that is not in a plain run: a control (LF ends the line, TAB is a
    /// space, the rest are dropped) or what a malformed sequence let through.
    private mutating func take(_ byte: UInt8, _ buffer: UnsafeMutableRawBufferPointer, _ found: (Match) -> Void) {
        switch byte {
        case 0x0A: endLine(buffer, found)
        case 0x09: append(0x20, buffer, found)
        case 0x20..<0x7F, 0x80...: append(byte, buffer, found)
        default: break
        }
    }

    /// What is left of the last line (the output ended without a newline).
    public mutating func finish(_ found: (Match) -> Void) {
        if lineCount > 0 {
            let kept = Array(line[..<lineCount])
            lineCount = 0
            kept.withUnsafeBytes { match($0, found) }
        }
        scanner.reset()
    }

    private mutating func append(_ byte: UInt8, _ buffer: UnsafeMutableRawBufferPointer, _ found: (Match) -> Void) {
        buffer[lineCount] = byte
        lineCount += 1
        if lineCount >= Self.maxLine { endLine(buffer, found) }
    }

    private mutating func appendRun(_ run: UnsafeRawBufferPointer, _ buffer: UnsafeMutableRawBufferPointer, _ found: (Match) -> Void) {
        var rest = run
        while !rest.isEmpty {
            let take = min(rest.count, Self.maxLine - lineCount)
            UnsafeMutableRawBufferPointer(rebasing: buffer[lineCount..<lineCount + take]).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            lineCount += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if lineCount >= Self.maxLine { endLine(buffer, found) }
        }
    }

    private mutating func endLine(_ buffer: UnsafeMutableRawBufferPointer, _ found: (Match) -> Void) {
        defer { lineCount = 0 }
        guard lineCount > 0 else { return }
        match(UnsafeRawBufferPointer(rebasing: buffer[..<lineCount]), found)
    }

    /// One whole line (escapes and controls removed), against every trigger: the regex
    /// engine (microseconds a line) only sees lines that hold a trigger's literal.
    private func match(_ line: UnsafeRawBufferPointer, _ found: (Match) -> Void) {
        var candidates = always | literals.found(in: line)
        guard candidates != 0 else { return }
        let bytes = Array(line)
        let text = String(decoding: bytes, as: UTF8.self)
        while candidates != 0 {
            let index = candidates.trailingZeroBitCount
            candidates &= candidates - 1
            if triggers[index].whole {
                found(Match(trigger: index, line: Self.shown(bytes), matched: Self.shown(triggers[index].literal!)))
            } else if let match = try? triggers[index].regex?.firstMatch(in: text) {
                found(Match(trigger: index, line: Self.shown(bytes), matched: Self.shown(Array(text[match.range].utf8))))
            }
        }
    }

    // Eight bytes at a time in a UInt64 ("SWAR"): whether any byte is zero, or below n
    // (n <= 0x80), without looking at each; exact for the word as a whole.
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always) private static func hasZero(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
    @inline(__always) private static func hasBelow(_ x: UInt64, _ n: UInt8) -> Bool { (x &- ones &* UInt64(n)) & ~x & highs != 0 }
    @inline(__always) private static func has(_ x: UInt64, _ byte: UInt8) -> Bool { hasZero(x ^ (ones &* UInt64(byte))) }

    /// The end of the run of printable bytes (no control, no DEL) that starts at `start`,
    /// eight bytes at a time while they are all printable.
    @inline(__always) private static func plainRun(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var end = start
        while end + 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: end, as: UInt64.self)
            if hasBelow(word, 0x20) || has(word, 0x7F) { break }
            end += 8
        }
        while end < bytes.count, bytes[end] >= 0x20, bytes[end] != 0x7F { end += 1 }
        return end
    }

    /// At most `maxShown` bytes (a character cut there is shown as bytes), "..." when cut.
    private static func shown(_ bytes: [UInt8]) -> String {
        bytes.count <= maxShown ? TerminalText.escaped(bytes) : TerminalText.escaped(bytes.prefix(maxShown)) + "..."
    }
}
