import Testing

@testable import RTTYCore

@Suite struct ScriptTextTests {
    @Test func escapesBecomeTheirBytes() throws {
        #expect(try ScriptText.decode(#"root\r"#) == Array("root\r".utf8))
        #expect(try ScriptText.decode(#"\x03\e[A\0\177\\\t\n"#) == [3, 27, 91, 65, 0, 127, 92, 9, 10])
        #expect(try ScriptText.decode("plain") == Array("plain".utf8))
        #expect(try ScriptText.decode(#"\101\0101"#) == [65, 8, 49])
    }

    @Test func badEscapesNameWhatWasWrong() {
        #expect(throws: ScriptText.BadEscape.self) { try ScriptText.decode(#"\q"#) }
        #expect(throws: ScriptText.BadEscape.self) { try ScriptText.decode(#"\x3"#) }
        #expect(throws: ScriptText.BadEscape.self) { try ScriptText.decode(#"\400"#) }
        #expect(throws: ScriptText.BadEscape.self) { try ScriptText.decode("end\\") }
        do {
            _ = try ScriptText.decode(#"a\q"#)
        } catch {
            #expect(error.description.hasPrefix(#"unknown escape \q"#))
        }
    }

    @Test func stripperDropsSequencesEvenSplitAcrossChunks() {
        var stripper = EscapeStripper()
        let whole = Array("\u{1B}[1mlab1 login:\u{1B}[0m \u{1B}]0;title\u{07}# \u{1B}(Bok\u{1B}]2;t\u{1B}\\!".utf8)
        #expect(stripper.feed(whole) == Array("lab1 login: # ok!".utf8))
        var split = EscapeStripper()
        var out: [UInt8] = []
        for byte in whole { out += split.feed([byte]) }
        #expect(out == Array("lab1 login: # ok!".utf8))
        // UTF-8 with a 0x9B continuation byte passes whole.
        #expect(EscapeStripper().feedOnce(Array("ě".utf8)) == Array("ě".utf8))
    }

    /// A title (OSC) the guest never terminated used to swallow everything after it:
    /// `rttyctl expect` and the agent server never saw the login prompt that followed.
    @Test func anUnterminatedSequenceEndsAtTheNewline() throws {
        var stripper = EscapeStripper()
        #expect(stripper.feed(Array("\u{1B}]0;root@lab1: ~\r\nlab1 login: ".utf8)) == Array("\nlab1 login: ".utf8))
        var csi = EscapeStripper()
        #expect(csi.feed(Array("\u{1B}[1;\nok \u{1B}P1$r never ended\nstill here".utf8)) == Array("\nok \nstill here".utf8))
        var matcher = try OutputMatcher(pattern: "login: $")
        #expect(matcher.feed(Array("\u{1B}]0;root@lab1: ~\r\n".utf8)) == nil)
        #expect(matcher.feed(Array("lab1 login: ".utf8)) == "login: ")
    }

    /// Triggers and expect read escape sequences the same way (one `EscapeScanner`): every
    /// line a trigger sees is the line the stripper gives, with its controls dropped.
    @Test func triggersAndExpectSeeTheSameText() {
        let samples = [
            "\u{1B}[1;31mKernel panic\u{1B}[0m - not syncing\r\n",
            "\u{1B}]0;title\u{07}prompt# \u{1B}(Bok\n",
            "\u{1B}]2;never ended\r\nnext line\n",
            "\u{1B}[12;\u{1B}[mhalf\u{1B}\u{1B}[0mdone\n",
            "tab\there \u{1B}P$q ignored \u{1B}\\ shown\n",
            "caf\u{E9} \u{1B}[\u{E9}x\n",
        ]
        for sample in samples {
            var stripper = EscapeStripper()
            let expected = String(decoding: stripper.feed(Array(sample.utf8)), as: UTF8.self)
                .split(separator: "\n").map { line in
                    String(line.unicodeScalars.compactMap { $0 == "\t" ? " " : $0.value < 0x20 || $0.value == 0x7F ? nil : Character($0) })
                }.filter { !$0.isEmpty }
            var lines: [String] = []
            var triggers = TriggerMatcher(patterns: [".+"])
            Array(sample.utf8).withUnsafeBytes { bytes in triggers.feed(bytes) { lines.append($0.line) } }
            triggers.finish { lines.append($0.line) }
            #expect(lines == expected, "\(sample.debugDescription)")
        }
    }

    @Test func windowKeepsTheNewestBytesByOffset() {
        var window = OutputWindow(capacity: 8)
        window.append(Array("0123456789".utf8))
        #expect(window.start == 2 && window.end == 10)
        let old = window.read(from: 0, limit: 4)
        #expect(old == .init(bytes: Array("2345".utf8), from: 2, next: 6, missed: 2))
        #expect(window.read(from: 6, limit: 100) == .init(bytes: Array("6789".utf8), from: 6, next: 10, missed: 0))
        #expect(window.read(from: 50, limit: 10) == .init(bytes: [], from: 10, next: 10, missed: 0))
    }

    @Test func matcherMatchesAcrossReadsAndForgetsWhatItMatched() throws {
        var matcher = try OutputMatcher(pattern: "login: ?$")
        #expect(matcher.feed(Array("lab1 lo".utf8)) == nil)
        #expect(matcher.feed(Array("gin:\u{1B}[0m ".utf8)) == "login: ")
        #expect(matcher.feed(Array("next".utf8)) == nil)
        var prompt = try OutputMatcher(pattern: #"[#$] $"#)
        #expect(prompt.feed(Array("\u{1B}]0;root@x\u{07}root@x:~# ".utf8)) == "# ")
        #expect(throws: OutputMatcher.BadPattern.self) { try OutputMatcher(pattern: "(open") }
        #expect(throws: OutputMatcher.BadPattern.self) { try OutputMatcher(pattern: "") }
    }

    @Test func agentClaimIsRecordedAsAClaim() {
        let metadata = SessionMetadata(payload: Array("AGENT=mcp client=\u{1B}[31mx\nTERM=dumb".utf8))
        #expect(metadata.auditDetails.map(\.0) == ["term", "claimed_agent"])
        #expect(metadata.values["AGENT"] == #"mcp client=\x1b[31mx"#)
    }
}

extension EscapeStripper {
    func feedOnce(_ bytes: [UInt8]) -> [UInt8] {
        var copy = self
        return copy.feed(bytes)
    }
}

@Suite struct PrefixedOutputTests {
    @Test func eachLineStartsWithItsConsoleAndInterruptedLinesAreEnded() {
        var output = PrefixedOutput()
        var screen: [UInt8] = []
        screen += output.feed("pbx", Array("boot ok\r\nlogin: ".utf8))
        screen += output.feed("util", Array("ready\r\n".utf8))
        screen += output.feed("pbx", Array("root\r\n".utf8))
        screen += output.feed("pbx", Array("# ".utf8))
        screen += output.interrupt()
        #expect(String(decoding: screen, as: UTF8.self) == "pbx: boot ok\r\npbx: login: \r\nutil: ready\r\npbx: root\r\npbx: # \r\n")
        #expect(output.interrupt().isEmpty)
        #expect(output.feed("a\u{1B}", []).isEmpty)
        #expect(String(decoding: output.feed("a\u{1B}", Array("x".utf8)), as: UTF8.self) == "a\\x1b: x")
    }
}

@Suite struct BroadcastEscapeTests {
    @Test func tildeBTakesAListAndEnter() {
        var machine = EscapeMachine(restricted: false)
        let actions = machine.feed(Array("~bpbx,lab*\r".utf8))
        #expect(actions.first == .echo("[broadcast to: "))
        #expect(actions.last == .broadcast("pbx,lab*"))
        #expect(!actions.contains { if case .send = $0 { true } else { false } })
        // Cancelled: nothing, and back at line start.
        var cancelled = EscapeMachine(restricted: false)
        #expect(cancelled.feed(Array("~bpbx\u{1B}".utf8)).last == .echo(" (cancelled)]\r\n"))
        #expect(cancelled.feed(Array("~.".utf8)) == [.quit])
    }

    @Test func aReadOnlySessionCannotBroadcast() {
        var machine = EscapeMachine(restricted: true)
        #expect(machine.feed(Array("~b".utf8)) == [.refused("a read-only session cannot type into other consoles")])
        #expect(machine.feed(Array("x".utf8)) == [.send(Array("x".utf8))])
    }
}
