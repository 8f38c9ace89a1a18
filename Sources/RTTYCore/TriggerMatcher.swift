/// Console output in, trigger matches out: a value fed the device's bytes in chunks as
/// they come. It cuts the stream into lines (at LF; CR and other controls dropped),
/// removes terminal escape sequences (CSI, OSC and other strings, two-byte escapes) so a
/// coloured "BUG:" matches like a plain one, and matches every line against each trigger.
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

    private enum State {
        case text, escape, intermediate, csi, string, stringEscape
    }

    private let triggers: [Compiled]
    /// The shortest literal's length (0: no literals), and per byte value how far a window
    /// ending in it may move and which literals' first `shortest` bytes end in it.
    private var shortest = 0
    private var skip = [UInt8](repeating: 0, count: 256)
    private var endsIn = [UInt64](repeating: 0, count: 256)
    /// Triggers without a literal: every line goes to their regex.
    private var always: UInt64 = 0
    /// The line so far: the first `lineCount` bytes of a buffer of `maxLine` (filled in
    /// place; an array grown and emptied per line cost more than the matching).
    private var line = [UInt8](repeating: 0, count: TriggerMatcher.maxLine)
    private var lineCount = 0
    private var state = State.text

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
        let literals = compiled.compactMap(\.literal)
        shortest = min(literals.map(\.count).min() ?? 0, 255)
        skip = [UInt8](repeating: UInt8(shortest), count: 256)
        for (index, trigger) in compiled.enumerated() {
            guard let literal = trigger.literal else { continue }
            for at in 0..<shortest - 1 { skip[Int(literal[at])] = min(skip[Int(literal[at])], UInt8(shortest - 1 - at)) }
            endsIn[Int(literal[shortest - 1])] |= 1 << UInt64(index)
        }
    }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ found: (Match) -> Void) {
        var i = 0
        while i < bytes.count {
            if state == .text {
                // The common case, text: a run of printable bytes is copied in one go.
                let end = Self.plainRun(bytes, from: i)
                if end > i {
                    appendRun(UnsafeRawBufferPointer(rebasing: bytes[i..<end]), found)
                    i = end
                    continue
                }
                // A control: most are dropped right here.
                switch bytes[i] {
                case 0x0A: endLine(found)
                case 0x1B: state = .escape
                case 0x09: append(0x20, found)
                default: break
                }
                i += 1
                continue
            }
            take(bytes[i], found)
            i += 1
        }
    }

    private mutating func take(_ byte: UInt8, _ found: (Match) -> Void) {
            switch state {
            case .text:
                break  // handled in `feed`
            case .escape:
                switch byte {
                case UInt8(ascii: "["): state = .csi
                case UInt8(ascii: "]"), UInt8(ascii: "P"), UInt8(ascii: "X"), UInt8(ascii: "^"), UInt8(ascii: "_"): state = .string
                case 0x20...0x2F: state = .intermediate
                case 0x0A: lineEndsSequence(found)
                default: state = .text
                }
            case .intermediate:
                if byte == 0x0A { lineEndsSequence(found) } else if !(0x20...0x2F).contains(byte) { state = .text }
            case .csi:
                if byte == 0x0A { lineEndsSequence(found) } else if (0x40...0x7E).contains(byte) { state = .text }
            case .string, .stringEscape:
                // BEL or ST ends it; a newline too, so an unterminated OSC cannot hide
                // every later line from the triggers.
                switch byte {
                case 0x07: state = .text
                case 0x0A: lineEndsSequence(found)
                case 0x1B: state = .stringEscape
                case UInt8(ascii: "\\") where state == .stringEscape: state = .text
                default: state = .string
                }
            }
    }

    /// What is left of the last line (the output ended without a newline).
    public mutating func finish(_ found: (Match) -> Void) {
        if lineCount > 0 { endLine(found) }
        state = .text
    }

    private mutating func lineEndsSequence(_ found: (Match) -> Void) {
        state = .text
        endLine(found)
    }

    private mutating func append(_ byte: UInt8, _ found: (Match) -> Void) {
        line[lineCount] = byte
        lineCount += 1
        if lineCount >= Self.maxLine { endLine(found) }
    }

    private mutating func appendRun(_ run: UnsafeRawBufferPointer, _ found: (Match) -> Void) {
        var rest = run
        while !rest.isEmpty {
            let take = min(rest.count, Self.maxLine - lineCount)
            let at = lineCount
            line.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[at..<at + take]).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<take])) }
            lineCount += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if lineCount >= Self.maxLine { endLine(found) }
        }
    }

    private mutating func endLine(_ found: (Match) -> Void) {
        defer { lineCount = 0 }
        guard lineCount > 0 else { return }
        var candidates = always | literalCandidates()
        guard candidates != 0 else { return }
        let bytes = Array(line[..<lineCount])
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
    private static func plainRun(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
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

    /// The triggers whose literal is in the line, by Horspool's skip for many literals:
    /// the byte at the end of a window of `shortest` bytes says how far the next window
    /// can start (`skip`), and literals are compared only where a window ends in the byte
    /// their first `shortest` bytes end in (`endsIn`). Most bytes of a line are never read.
    private func literalCandidates() -> UInt64 {
        guard shortest > 0 else { return 0 }
        var found: UInt64 = 0
        line.withUnsafeBufferPointer { whole in
            skip.withUnsafeBufferPointer { skip in
                endsIn.withUnsafeBufferPointer { endsIn in
                    let bytes = UnsafeBufferPointer(rebasing: whole[..<lineCount])
                    var end = shortest - 1
                    while end < bytes.count {
                        let byte = Int(bytes[end])
                        var maybe = endsIn[byte] & ~found
                        while maybe != 0 {
                            let index = maybe.trailingZeroBitCount
                            maybe &= maybe - 1
                            let literal = triggers[index].literal!
                            let start = end - shortest + 1
                            if start + literal.count <= bytes.count && literal.withUnsafeBufferPointer({ memoryEqual(bytes, start, $0) }) {
                                found |= 1 << UInt64(index)
                            }
                        }
                        end += Int(skip[byte])
                    }
                }
            }
        }
        return found
    }

    private func memoryEqual(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ literal: UnsafeBufferPointer<UInt8>) -> Bool {
        for k in 0..<literal.count where bytes[start + k] != literal[k] { return false }
        return true
    }
}
