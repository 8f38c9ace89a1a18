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
    /// For each byte value, the triggers (bits) whose literal starts with it.
    private var firstByte = [UInt64](repeating: 0, count: 256)
    private var hasLiterals = false
    /// Triggers without a literal: every line goes to their regex.
    private var always: UInt64 = 0
    private var line: [UInt8] = []
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
            if let first = literal?.first {
                firstByte[Int(first)] |= 1 << UInt64(index)
                hasLiterals = true
            } else {
                always |= 1 << UInt64(index)
            }
        }
        triggers = compiled
        line.reserveCapacity(Self.maxLine)
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
            }
            take(bytes[i], found)
            i += 1
        }
    }

    private mutating func take(_ byte: UInt8, _ found: (Match) -> Void) {
            switch state {
            case .text:
                switch byte {
                case 0x0A: endLine(found)
                case 0x1B: state = .escape
                case 0x09: append(0x20, found)
                case 0x00..<0x20, 0x7F: break
                default: append(byte, found)
                }
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
        if !line.isEmpty { endLine(found) }
        state = .text
    }

    private mutating func lineEndsSequence(_ found: (Match) -> Void) {
        state = .text
        endLine(found)
    }

    private mutating func append(_ byte: UInt8, _ found: (Match) -> Void) {
        line.append(byte)
        if line.count >= Self.maxLine { endLine(found) }
    }

    private mutating func appendRun(_ run: UnsafeRawBufferPointer, _ found: (Match) -> Void) {
        var rest = run
        while !rest.isEmpty {
            let take = min(rest.count, Self.maxLine - line.count)
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            if line.count >= Self.maxLine { endLine(found) }
        }
    }

    private mutating func endLine(_ found: (Match) -> Void) {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else { return }
        var candidates = always | literalCandidates()
        guard candidates != 0 else { return }
        let text = String(decoding: line, as: UTF8.self)
        while candidates != 0 {
            let index = candidates.trailingZeroBitCount
            candidates &= candidates - 1
            if triggers[index].whole {
                found(Match(trigger: index, line: Self.shown(line), matched: Self.shown(triggers[index].literal!)))
            } else if let match = try? triggers[index].regex?.firstMatch(in: text) {
                found(Match(trigger: index, line: Self.shown(line), matched: Self.shown(Array(text[match.range].utf8))))
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

    /// The triggers whose literal is in the line: one table look-up per byte, and a
    /// comparison only where a literal could start.
    private func literalCandidates() -> UInt64 {
        guard hasLiterals else { return 0 }
        var found: UInt64 = 0
        line.withUnsafeBufferPointer { bytes in firstByte.withUnsafeBufferPointer { table in
            let count = bytes.count
            for start in 0..<count {
                var maybe = table[Int(bytes[start])] & ~found
                while maybe != 0 {
                    let index = maybe.trailingZeroBitCount
                    maybe &= maybe - 1
                    let literal = triggers[index].literal!
                    if start + literal.count <= count && literal.withUnsafeBufferPointer({ memoryEqual(bytes, start, $0) }) {
                        found |= 1 << UInt64(index)
                    }
                }
            }
        } }
        return found
    }

    private func memoryEqual(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ literal: UnsafeBufferPointer<UInt8>) -> Bool {
        for k in 1..<literal.count where bytes[start + k] != literal[k] { return false }
        return true
    }
}
