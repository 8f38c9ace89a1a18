import Testing
@testable import RTTYCore

/// The project's files read as their bytes have them (CRLF, a byte order mark, separators
/// followed by combining marks), and a line that cannot be read denies instead of being
/// skipped (issue 14, item 10).
@Suite struct FailClosedParsingTests {
    @Test func crlfLinesAreLines() {
        let acl = AccessList(parsing: "mallory pbx none\r\n%ops pbx rw\r\n", file: "access")
        #expect(acl.problems.isEmpty, "\(acl.problems)")
        #expect(acl.rules.map(\.line) == [1, 2])
        #expect(acl.decide(user: "alice", groups: ["ops"], console: "pbx").rights == .rw)
        #expect(acl.decide(user: "mallory", groups: ["ops"], console: "pbx").rights == .none)
    }

    @Test func aByteOrderMarkIsNotPartOfTheFirstWord() {
        let acl = AccessList(parsing: "\u{FEFF}mallory * none\n%ops * rw\n", file: "access")
        #expect(acl.problems.isEmpty, "\(acl.problems)")
        #expect(acl.decide(user: "mallory", groups: ["ops"], console: "pbx") == (.none, 1))
    }

    @Test func aLineTooLongDeniesEveryConsoleFromThere() {
        let long = "mallory pbx," + String(repeating: "x", count: 5_000) + " none"
        let acl = AccessList(parsing: "vixie * rw\n\(long)\n%ops * rw\n", file: "access")
        #expect(acl.problems.map(\.line) == [2])
        #expect(acl.problems[0].message.contains("read as \"* * none\""), "\(acl.problems)")
        #expect(acl.decide(user: "mallory", groups: ["ops"], console: "pbx") == (.none, 2))
        #expect(acl.decide(user: "alice", groups: ["ops"], console: "lab") == (.none, 2))
        // Lines above it still decide first.
        #expect(acl.decide(user: "vixie", groups: [], console: "pbx") == (.rw, 1))
    }

    @Test(arguments: [
        "mallory *\t\u{200D}none",  // a joiner makes "\t\u{200D}" one Character
        "mallory * none #\u{301} note",  // "#\u{301}" is one Character, not "#"
        "mallory\u{00A0}* none",  // a no-break space is not a field separator
    ])
    func separatorsAreScalars(line: String) {
        let acl = AccessList(parsing: line + "\n%ops * rw\n", file: "access")
        #expect(acl.decide(user: "mallory", groups: ["ops"], console: "pbx").rights == .none, "\(acl.rules) \(acl.problems)")
    }

    @Test func aBadUserDeniesItsConsolesToEveryone() {
        let acl = AccessList(parsing: "mal\u{202E}lory pbx,lab* none\n* * rw\n", file: "access")
        #expect(acl.problems.count == 1)
        #expect(acl.problems[0].message.contains("\\u{202e}"), "shown escaped: \(acl.problems)")
        #expect(acl.decide(user: "anyone", groups: [], console: "lab3") == (.none, 1))
        #expect(acl.decide(user: "anyone", groups: [], console: "util") == (.rw, 2))
    }

    @Test func grantOnACRLFFileKeepsItsLines() throws {
        let text = "# ops\r\nmallory pbx none\r\n%ops * rw\r\n"
        let edited = try AccessEdit.grant(text, grantee: .init("bob", groups: []), consoles: ["util"], rights: .ro, note: "")
        #expect(edited == "# ops\nmallory pbx none\n%ops * rw\nbob util ro\n")
    }

    @Test func configWithCRLFAndABOMKeepsOrderAndLines() throws {
        let text = "\u{FEFF}[console.c]\r\ndevice = \"/dev/c\"\r\n[console.a]\r\ndevice = \"/dev/a\"\r\n[console.b]\r\ndevice = \"/dev/b\"\r\n"
        #expect(try ConfigParser.parse(text, file: "f").consoles.map(\.name) == ["c", "a", "b"])
        do {
            _ = try ConfigParser.parse(text + "[console.d]\r\ndevice = \"/dev/d\"\r\nbaud = 7\r\n", file: "f")
            Issue.record("baud 7 accepted")
        } catch {
            #expect(error.line == 9, "\(error)")
        }
    }

    @Test func classicOptionFilesWithCRLFAndABOM() throws {
        let result = ClassicImport.convert(
            consoles: [.init(name: "pbx", device: "/dev/ttyS0", options: "\u{FEFF}-b 115200\r\n-p even\r\n")], defaults: "-R\r\n", root: "/r")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        let config = try ConfigParser.parse(result.config, file: "imported")
        #expect(config.console(named: "pbx")?.settings == LineSettings(baud: 115_200, parity: .even))
    }

    @Test func classicNamesThatAreNotBareKeysAreQuoted() throws {
        let result = ClassicImport.convert(consoles: [.init(name: "lab1.bmc", device: "/dev/ttyS0", options: nil)], defaults: nil, root: "/r")
        #expect(try ConfigParser.parse(result.config, file: "imported").consoles.map(\.name) == ["lab1.bmc"])
    }
}

/// Console names the ACL could not write exactly are refused (issue 14, item 9).
@Suite struct ConsoleNameRuleTests {
    @Test(arguments: [
        "lab[1]", "lab*", "lab?", "a,b", "a#b", "a!b", "x\u{202E}y", "x\u{00A0}y", "x\u{200B}y", "x\u{200D}y", "caf\u{E9}", "cafe\u{301}",
        "\u{FF30}BX", "a%b", "a$b", "a\\b", "a'b", "a\"b",
    ])
    func refused(name: String) {
        #expect(ConsoleName.problem(name) != nil, "\(name.debugDescription) accepted")
        do {
            _ = try ConfigParser.parse("[console.\(JSON.quote(name))]\ndevice = \"/dev/x\"\n", file: "f")
            Issue.record("console \(name.debugDescription) accepted")
        } catch {
            #expect(error.key?.hasPrefix("console.") == true, "\(error)")
        }
    }

    @Test(arguments: ["pbx", "lab-1", "vm_7", "lab1.bmc", "a+b", "ops@rack3", "rack3:port4", "ttyUSB0"])
    func accepted(name: String) throws {
        #expect(ConsoleName.problem(name) == nil)
        let config = try ConfigParser.parse("[console.\(JSON.quote(name))]\ndevice = \"/dev/x\"\n", file: "f")
        // What the ACL writes for it matches it, and only it.
        let acl = AccessList(parsing: "bob \(name) rw\n", file: "access")
        #expect(acl.problems.isEmpty)
        #expect(acl.decide(user: "bob", groups: [], console: config.consoles[0].name).rights == .rw)
    }

    @Test func grantRefusesWhatNoNameCanBe() {
        #expect(throws: AccessEdit.Failure.self) {
            try AccessEdit.grant("", grantee: .init("bob", groups: []), consoles: ["x\u{202E}y"], rights: .rw, note: "")
        }
    }
}

/// Words of a control request (issue 14, item 11).
@Suite struct ControlWordsTests {
    @Test(arguments: ["rtm guests", "rtm\tguests", "a\u{00A0}b", "a\u{2028}b", "a\u{202E}b", "", "a\rb", "a\u{85}b"])
    func refusedWords(word: String) {
        #expect(ControlWords.problem(word) != nil, "\(word.debugDescription)")
    }

    @Test(arguments: ["grant ro rtm  guests pbx", " status", "status ", "grant ro rtm\tguests pbx", "kick a\u{1B}[2J"])
    func refusedLines(line: String) {
        #expect(throws: ControlWords.Failure.self) { try ControlWords.split(line) }
    }

    @Test func plainLines() throws {
        #expect(try ControlWords.split("grant ro %ops pbx lab*") == ["grant", "ro", "%ops", "pbx", "lab*"])
        #expect(try ControlWords.split("status") == ["status"])
    }
}
