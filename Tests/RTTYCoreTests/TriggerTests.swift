import Foundation
import Testing

@testable import RTTYCore

/// Triggers: the config tables, the literal prefilter and the line matcher, on the shipped
/// crash set (packaging/etc/triggers.conf) and crash text in Tests/Fixtures/crash-text
/// (one real capture, the rest written from knowledge and labelled so; see its README).
@Suite struct TriggerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func shipped() throws -> [Trigger] {
        let config = try ConfigParser.parse(try text("packaging/etc/triggers.conf"), file: "triggers.conf")
        return config.defaults.triggers
    }

    /// The names of the triggers that fire, line by line, feeding `bytes` in `chunk`s.
    static func fired(_ triggers: [Trigger], _ bytes: [UInt8], chunk: Int = 4095) -> [String] {
        var matcher = TriggerMatcher(patterns: triggers.map(\.pattern))
        var names: [String] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            bytes[start..<end].withUnsafeBytes { matcher.feed($0) { names.append(triggers[$0.trigger].name) } }
            start = end
        }
        matcher.finish { names.append(triggers[$0.trigger].name) }
        return names
    }

    @Test func theShippedSetFiresOnARealLinuxPanicCapturedFromTheTestGuest() throws {
        let bytes = Array(try Self.text("Tests/Fixtures/crash-text/linux-6.1-sysrq-c.real.txt").utf8)
        #expect(Self.fired(try Self.shipped(), bytes) == ["linux-panic", "linux-call-trace"])
        // Read by one byte at a time, the same (lines cut across reads are put together).
        #expect(Self.fired(try Self.shipped(), bytes, chunk: 1) == ["linux-panic", "linux-call-trace"])
    }

    @Test(arguments: [
        ("linux-oops.written.txt", ["linux-bug", "linux-oops", "linux-call-trace"]),
        ("linux-lockups.written.txt", ["linux-soft-lockup", "linux-hard-lockup", "linux-hung-task", "linux-kernel-bug"]),
        ("freebsd-page-fault.written.txt", ["freebsd-fatal-trap", "freebsd-panic"]),
        ("freebsd-kdb-panic.written.txt", ["freebsd-panic"]),
        ("ordinary-boot.written.txt", []),
    ])
    func theShippedSetFiresOnWrittenCrashTextAndNotOnOrdinaryOutput(file: String, expected: [String]) throws {
        let bytes = Array(try Self.text("Tests/Fixtures/crash-text/" + file).utf8)
        #expect(Self.fired(try Self.shipped(), bytes) == expected)
    }

    @Test func aMatchShowsTheLineWithoutItsEscapesAndWithControlsMadeVisible() throws {
        let triggers = [Trigger(name: "p", pattern: "Kernel panic - not syncing: (.*)$")]
        var matcher = TriggerMatcher(patterns: triggers.map(\.pattern))
        var found: [TriggerMatcher.Match] = []
        let bytes = Array("\u{1B}[1;31mKernel \u{1B}]0;title\u{07}panic - not syncing: \u{1B}[0mfatal\u{202E}x\r\n".utf8)
        bytes.withUnsafeBytes { matcher.feed($0) { found.append($0) } }
        #expect(found == [TriggerMatcher.Match(trigger: 0, line: "Kernel panic - not syncing: fatal\\u{202e}x", matched: "Kernel panic - not syncing: fatal\\u{202e}x")])
    }

    @Test func aLineLongerThanTheBoundIsMatchedInPieces() throws {
        let triggers = [Trigger(name: "p", pattern: "Kernel panic")]
        // The match lies in the second piece (bytes 4096..8191): found.
        let long = Array(String(repeating: "x", count: 5000).utf8) + Array("Kernel panic".utf8) + Array(String(repeating: "y", count: 5000).utf8)
        #expect(Self.fired(triggers, long + [0x0A]) == ["p"])
        // Across the cut at 4096 it is missed: the documented cost of the bound.
        let across = Array(String(repeating: "x", count: 4090).utf8) + Array("Kernel panic\n".utf8)
        #expect(Self.fired(triggers, across) == [])
        // A megabyte without a newline still reaches the matcher, piece by piece.
        let endless = [UInt8](repeating: 0x41, count: 1 << 20) + Array("Kernel panic".utf8)
        #expect(Self.fired(triggers, endless, chunk: 65536) == ["p"])
    }

    @Test(arguments: [
        ("Kernel panic - not syncing", "Kernel panic - not syncing"), ("colou?r", "colo"), ("ab*c", "a"),
        ("x\\.y", "x.y"), ("a{2}bcd", "bcd"), ("[abc]def", "def"), ("Oops: [0-9a-f]{4} \\[#", "Oops: "),
        ("(^|[\\] ])BUG: (kernel|unable)", "BUG: "), ("^panic: ", "panic: "), ("a+b", "a"), ("é?tude", "tude"),
    ])
    func theRequiredLiteralIsPartOfEveryMatch(pattern: String, literal: String) {
        #expect(RequiredLiteral.of(pattern) == Array(literal.utf8))
    }

    @Test(arguments: ["panic|oops", "(?i)panic", "\\x41BC", "\\p{L}+", "a{x}", ".*", "\\d+", "[panic]", "(?i:panic)"])
    func noLiteralWhenNoneIsSure(pattern: String) {
        #expect(RequiredLiteral.of(pattern) == nil)
    }

    /// The prefilter never changes what matches: each pattern against each line, with and
    /// without it.
    @Test func thePrefilterAgreesWithTheRegexOnEveryLine() throws {
        var lines: [String] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Tests/Fixtures/crash-text").path) {
            lines += try Self.text("Tests/Fixtures/crash-text/" + file).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
        }
        lines += ["colour", "color", "colr", "xx.y", "aabcd", "Kernel  panic", "KERNEL PANIC", "ab", "abbbc", "étude", "tude"]
        let patterns = try Self.shipped().map(\.pattern) + ["colou?r", "ab*c", "x\\.y", "a{2}bcd", "é?tude", "(?i)kernel panic", "K.rnel"]
        for pattern in patterns {
            guard case .success(let regex) = Trigger.compile(pattern) else {
                Issue.record("\(pattern) does not compile")
                continue
            }
            for line in lines {
                let expected = (try? regex.firstMatch(in: line)) != nil
                let got = !Self.fired([Trigger(name: "t", pattern: pattern)], Array((line + "\n").utf8)).isEmpty
                #expect(got == expected, "\(pattern) on \(line)")
            }
        }
    }

    /// Many literals of different lengths in one matcher (the skip table is shared), on
    /// random lines over their alphabet: the triggers that fire are the ones whose regex
    /// matches, line by line.
    @Test func manyLiteralsTogetherFindEveryMatch() throws {
        let patterns = ["ab", "abc", "bca", "dd", "a b:", "cab+d", "b?cc", "d:a"]
        let regexes = patterns.map { try! Trigger.compile($0).get() }
        let triggers = patterns.enumerated().map { Trigger(name: "t\($0.offset)", pattern: $0.element) }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcd :")
        for _ in 0..<3000 {
            let line = String((0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let expected = patterns.indices.filter { (try? regexes[$0].firstMatch(in: line)) != nil }.map { "t\($0)" }
            #expect(Self.fired(triggers, Array((line + "\n").utf8)).sorted() == expected.sorted(), "\(line)")
        }
    }

    /// The same on long lines (the literal search runs in four parts of a line at once)
    /// fed in chunks of every size (a line is matched where it lies in the input, or from
    /// the copy kept when it spans two chunks): what fires is what the regex matches.
    @Test func longLinesInAnyChunksFindEveryMatch() throws {
        let patterns = ["BUG: ", "Oops: [0-9a]{2}", "Call Trace:", "ab", "d:a"]
        let regexes = patterns.map { try! Trigger.compile($0).get() }
        let triggers = patterns.enumerated().map { Trigger(name: "t\($0.offset)", pattern: $0.element) }
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "b", "d", " ", ":", "BUG: ", "Oops: ", "0a", "Call Trace:", "Call", "BUG ", "xyzw"]
        for _ in 0..<500 {
            let line = (0..<Int.random(in: 0...120, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let expected = patterns.indices.filter { (try? regexes[$0].firstMatch(in: line)) != nil }.map { "t\($0)" }
            let chunk = Int.random(in: 1...600, using: &generator)
            #expect(Self.fired(triggers, Array(("x\n" + line + "\n").utf8), chunk: chunk).sorted() == expected.sorted(), "\(line)")
        }
    }

    // MARK: config

    @Test func triggersComeFromDefaultsThenTheConsole() throws {
        let config = try ConfigParser.parse(
            """
            [[defaults.trigger]]
            name = "panic"
            match = 'Kernel panic'

            [console.pbx]
            device = "/dev/ttyS0"

            [[console.pbx.trigger]]
            name = "login"
            match = '^login: $'
            audit = false
            command = ["/usr/bin/logger", "-t", "rtty"]
            command_interval = 5
            command_timeout = 2

            [console.util]
            device = "/dev/ttyS1"
            """, file: "rtty.conf")
        let pbx = try #require(config.console(named: "pbx"))
        #expect(pbx.triggers.map(\.name) == ["panic", "login"])
        #expect(pbx.triggers[1].audit == false && pbx.triggers[1].notice && pbx.triggers[1].mark)
        #expect(pbx.triggers[1].command == ["/usr/bin/logger", "-t", "rtty"])
        #expect(pbx.triggers[1].commandInterval == 5 && pbx.triggers[1].commandTimeout == 2)
        #expect(config.console(named: "util")?.triggers.map(\.name) == ["panic"])
    }

    @Test(arguments: [
        ("match = 'a(b'", 8, "console.pbx.trigger[2].match", "not a regular expression"),
        ("match = 'ok'\nwhat = 1", 9, "console.pbx.trigger[2].what", "unknown key"),
        ("match = 'ok'\ncommand = [\"logger\"]", 9, "console.pbx.trigger[2].command", "absolute path"),
        ("match = 'ok'\ncommand_timeout = 5", 9, "console.pbx.trigger[2].command_timeout", "applies only with command"),
        ("match = 'ok'\naudit = false\nnotice = false\nmark = false", 6, "console.pbx.trigger[2]", "does nothing"),
        ("match = ''", 8, "console.pbx.trigger[2].match", "empty"),
    ])
    func aBadTriggerIsAnErrorNamingItsLine(body: String, line: Int, key: String, words: String) throws {
        let text = """
            [console.pbx]
            device = "/dev/ttyS0"
            [[console.pbx.trigger]]
            name = "first"
            match = 'fine'
            [[console.pbx.trigger]]
            name = "second"
            \(body)
            """
        #expect {
            _ = try ConfigParser.parse(text, file: "rtty.conf")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.line == line && error.key == key && error.message.contains(words)
        }
    }

    @Test func namesAreUniquePerConsoleDefaultsIncluded() throws {
        #expect(throws: ConfigError.self) {
            _ = try ConfigParser.parse(
                "[[defaults.trigger]]\nname = \"p\"\nmatch = 'x'\n[console.pbx]\ndevice = \"/dev/ttyS0\"\n[[console.pbx.trigger]]\nname = \"p\"\nmatch = 'y'\n",
                file: "rtty.conf")
        }
        let many = (0...64).map { "[[defaults.trigger]]\nname = \"t\($0)\"\nmatch = 'x'\n" }.joined()
        #expect(throws: ConfigError.self) { _ = try ConfigParser.parse(many, file: "rtty.conf") }
    }
}
