import Testing
@testable import RTTYCore

/// What a client says about itself, made safe (issue 12, item 3), without I/O.
@Suite struct ClientTextTests {
    @Test(arguments: [
        ("plain ascii 1.2.3.4", "plain ascii 1.2.3.4"),
        ("\u{1B}]0;title\u{07}", #"\x1b]0;title\x07"#),
        ("\u{1B}[2J\u{1B}[31m", #"\x1b[2J\x1b[31m"#),
        ("csi\u{9B}31m", #"csi\xc2\x9b31m"#),
        ("del\u{7F}nul\u{0}", #"del\x7fnul\x00"#),
        ("back\\slash", #"back\\slash"#),
        ("café", #"caf\xc3\xa9"#),
    ])
    func sanitizedKeepsPrintableASCIIAndShowsTheRest(input: String, expected: String) {
        #expect(ClientText.sanitized(input.utf8, limit: 512) == expected)
    }

    @Test func sanitizedHandlesInvalidUTF8SpacesAndItsLimit() {
        #expect(ClientText.sanitized([0xFF, 0xFE, 0x41], limit: 512) == #"\xff\xfeA"#)
        #expect(ClientText.sanitized(Array("a b".utf8), limit: 512, spaces: false) == #"a\x20b"#)
        #expect(ClientText.sanitized([UInt8](repeating: 0x41, count: 600), limit: 512).count == 512)
    }

    @Test(arguments: [
        ("ok text, café ü", "ok text, café ü"),
        ("\u{1B}[2J", #"\x1b[2J"#),
        ("a\tb\nc\r", #"a\x09b\x0ac\x0d"#),
        ("c1\u{9B}\u{85}", #"c1\u{9b}\u{85}"#),
        ("bidi\u{202E}txt\u{200B}", #"bidi\u{202e}txt\u{200b}"#),
        ("del\u{7F}", #"del\x7f"#),
    ])
    func terminalTextMakesControlsVisible(input: String, expected: String) {
        #expect(TerminalText.escaped(input) == expected)
        #expect(TerminalText.escaped(Array(input.utf8)) == expected)
    }

    @Test func terminalTextShowsInvalidUTF8AsBytes() {
        // A lone continuation byte, an overlong "/", a truncated sequence, an 8-bit CSI.
        #expect(TerminalText.escaped([0x41, 0x80, 0xC0, 0xAF, 0xE2, 0x82, 0x42, 0x9B]) == #"A\x80\xc0\xaf\xe2\x82B\x9b"#)
        #expect(TerminalText.escaped([0xE2, 0x82]) == #"\xe2\x82"#)
        #expect(TerminalText.escaped([0xE2, 0x82, 0xAC]) == "€")
    }
}

@Suite struct SessionMetadataTests {
    static func parse(_ text: String) -> SessionMetadata { SessionMetadata(payload: Array(text.utf8)) }

    @Test func wellFormedSSHConnectionIsKeptAsAClaim() {
        let metadata = Self.parse("SSH_CONNECTION=192.0.2.7 51234 10.0.0.1 22\nSSH_TTY=/dev/pts/3\nTERM=xterm-256color\nCOMMAND=pbx")
        #expect(metadata.claimedFrom == "192.0.2.7 51234")
        #expect(metadata.problems.isEmpty)
        #expect(metadata.auditDetails.map(\.0) == ["claimed_from", "ssh_tty", "term", "command"])
        #expect(Self.parse("SSH_CONNECTION=2001:db8::7 65535 ::1 22").claimedFrom == "2001:db8::7 65535")
    }

    @Test(arguments: [
        "1.2.3.4 22 evil\u{1B}[31m 22", "1.2.3.4 22", "1.2.3.4 22 5.6.7.8 22 extra", "1.2.3.4 0 5.6.7.8 22",
        "1.2.3.4 65536 5.6.7.8 22", "1.2.3.4 +22 5.6.7.8 22", "1.2.3.4  22 5.6.7.8 22", "[::1] 22 ::1 22",
        "999.2.3.4 22 5.6.7.8 22", "host.example 22 5.6.7.8 22", "\u{1B}]0;x\u{07} 22 5.6.7.8 22", "",
    ])
    func malformedSSHConnectionIsDroppedWithANote(value: String) {
        let metadata = Self.parse("SSH_CONNECTION=\(value)\nTERM=vt100")
        #expect(metadata.claimedFrom == nil)
        #expect(metadata.values["SSH_CONNECTION"] == nil)
        #expect(metadata.values["TERM"] == "vt100")
        #expect(metadata.problems.count == 1 && metadata.problems[0].contains("SSH_CONNECTION"), "\(metadata.problems)")
        #expect(metadata.problems.allSatisfy { !$0.unicodeScalars.contains { $0.value < 0x20 || $0.value >= 0x7F } })
    }

    @Test func valuesAreSanitizedAndBadKeysDropped() {
        let metadata = SessionMetadata(payload: Array("TERM=xterm\u{1B}[2J\nX\u{1B}[6n=1\n=empty\nCOMMAND=a\u{9B}b".utf8) + [0xFF])
        #expect(metadata.values == ["TERM": #"xterm\x1b[2J"#, "COMMAND": #"a\xc2\x9bb\xff"#])
        #expect(metadata.problems.count == 2, "\(metadata.problems)")
        #expect(metadata.problems[0].contains(#"X\x1b[6n"#))
    }
}
