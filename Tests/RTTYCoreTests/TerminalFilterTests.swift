import Testing

@testable import RTTYCore

/// Guest output made safe for an admin's terminal, fed whole and split at every byte.
@Suite struct TerminalFilterTests {
    static func filtered(_ chunks: [[UInt8]]) -> String {
        var filter = TerminalFilter()
        var out: [UInt8] = []
        for chunk in chunks { out += filter.feed(chunk) }
        out += filter.finish()
        return String(decoding: out, as: UTF8.self)
    }

    /// Every split of `input` into two reads, and one byte per read, give `expected`.
    static func check(_ input: [UInt8], _ expected: String) {
        #expect(filtered([input]) == expected, "whole: \(input)")
        #expect(filtered(input.map { [$0] }) == expected, "byte by byte: \(input)")
        for cut in 0...input.count {
            #expect(filtered([Array(input[..<cut]), Array(input[cut...])]) == expected, "split at \(cut): \(input)")
        }
    }

    static let cases: [(String, [UInt8], String)] = [
        ("text, CR, LF, TAB", Array("a b\tc\r\n".utf8), "a b\tc\r\n"),
        ("UTF-8 letters", Array("café ü €".utf8), "café ü €"),
        ("SGR colours", Array("\u{1B}[1;31mred\u{1B}[0m \u{1B}[38:2:1:2:3mx\u{1B}[m".utf8), "\u{1B}[1;31mred\u{1B}[0m \u{1B}[38:2:1:2:3mx\u{1B}[m"),
        ("OSC 52 with BEL", Array("\u{1B}]52;c;aGk=\u{07}".utf8), "\\e]52;c;aGk=\\a"),
        ("OSC title with ST", Array("\u{1B}]2;t\u{1B}\\x".utf8), "\\e]2;t\\e\\x"),
        ("cursor report query", Array("\u{1B}[6n".utf8), "\\e[6n"),
        ("window title report", Array("\u{1B}[21t".utf8), "\\e[21t"),
        ("DECRQSS", Array("\u{1B}P$q\"p\u{1B}\\".utf8), "\\eP$q\"p\\e\\"),
        ("private SGR-like", Array("\u{1B}[?1049h\u{1B}[>4;1m".utf8), "\\e[?1049h\\e[>4;1m"),
        ("reset and charset", Array("\u{1B}c\u{1B}(B".utf8), "\\ec\\e(B"),
        ("controls", [0x00, 0x07, 0x08, 0x7F], "\\x00\\a\\x08\\x7f"),
        ("C1 as UTF-8", Array("\u{9B}6n\u{9D}0;x".utf8), "\\u{9b}6n\\u{9d}0;x"),
        ("8-bit C1 and bad UTF-8", [0x9B, 0x36, 0x6E, 0xFF, 0xC3, 0x28], "\\x9b6n\\xff\\xc3("),
        ("bidi override", Array("a\u{202E}b".utf8), "a\\u{202e}b"),
        ("string with controls in it", Array("\u{1B}]0;a\u{1B}[6n\u{07}".utf8), "\\e]0;a\\e[6n\\a"),
        ("CSI cut by a newline", Array("\u{1B}[12\n".utf8), "\\e[12\n"),
        ("ESC at the end", [0x41, 0x1B], "A\\e"),
        ("CSI held at the end", Array("\u{1B}[3".utf8), "\\e[3"),
        ("CAN ends a string", Array("\u{1B}]0;x\u{18}y".utf8), "\\e]0;x\\x18y"),
    ]

    @Test(arguments: cases.indices) func sequence(_ index: Int) {
        let (_, input, expected) = Self.cases[index]
        Self.check(input, expected)
    }

    @Test func overlongCSIIsShownNotHeld() {
        let long = [0x1B, UInt8(ascii: "[")] + [UInt8](repeating: UInt8(ascii: "1"), count: 200) + [UInt8(ascii: "m")]
        var filter = TerminalFilter()
        let first = filter.feed(long.prefix(TerminalFilter.maxHeld + 5))
        #expect(!first.isEmpty, "a long CSI is not held back")
        let all = String(decoding: first + filter.feed(long.dropFirst(TerminalFilter.maxHeld + 5)) + filter.finish(), as: UTF8.self)
        #expect(all == "\\e[" + String(repeating: "1", count: 200) + "m")
    }
}

/// Sessions left open by a killed daemon, found from decoded audit lines only.
@Suite struct AuditRecoveryTests {
    @Test func startedAndNeverEndedInOrder() {
        let lines = [
            AuditLine(time: "t1", event: "session-start", session: "a-1", console: "a", uid: 5, user: "u"),
            AuditLine(time: "t2", event: "session-start", session: "b-1", console: "b"),
            AuditLine(event: "session-end", session: "a-1"),
            AuditLine(time: "t3", event: "session-start", session: "c-1"),
            AuditLine(event: "reload"),
        ]
        #expect(AuditRecovery.openSessions(in: lines).map(\.session) == ["b-1", "c-1"])
        #expect(AuditRecovery.openSessions(in: lines).first?.started == "t2")
    }
}
