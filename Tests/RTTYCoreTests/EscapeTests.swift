import Testing
@testable import RTTYCore

@Suite struct EscapeTests {
    func run(_ text: String, restricted: Bool = false) -> [EscapeMachine.Action] {
        var machine = EscapeMachine(restricted: restricted)
        return machine.feed(Array(text.utf8))
    }

    @Test func escapesAtLineStart() {
        #expect(run("~.") == [.quit])
        #expect(run("~#") == [.sendBreak])
        #expect(run("~?") == [.help])
        #expect(run("~r") == [.replay])
        #expect(run("~w") == [.takeWriteLock])
        #expect(run("~W") == [.releaseWriteLock])
        #expect(run("~\u{1A}") == [.suspend])
        #expect(run("~qW") == [.query(.who)])
        #expect(run("~qT") == [.query(.tail)])
        #expect(run("~qV") == [.query(.version)])
        #expect(run("~q\r") == [.query(.settings)])
        #expect(run("ls\r~.") == [.send(Array("ls\r".utf8)), .quit])
    }

    @Test func tildeElsewhereIsText() {
        #expect(run("a~.") == [.send(Array("a~.".utf8))])
        #expect(run("~~") == [.send([UInt8(ascii: "~")])])
        #expect(run("~x") == [.send(Array("~x".utf8))])
        // After ~~ we are no longer at line start.
        #expect(run("~~.") == [.send(Array("~.".utf8))])
    }

    @Test func splitAcrossFeeds() {
        var machine = EscapeMachine(restricted: false)
        #expect(machine.feed(Array("x\r".utf8)) == [.send(Array("x\r".utf8))])
        #expect(machine.feed([UInt8(ascii: "~")]) == [])
        #expect(machine.feed([UInt8(ascii: "q")]) == [])
        #expect(machine.feed([UInt8(ascii: "V")]) == [.query(.version)])
    }

    @Test func setWithEditing() {
        let actions = run("~sb1152\u{7F}00\r")
        #expect(actions.first == .echo("[set baud: "))
        #expect(actions.last == .set(key: "baud", value: "11500"))
        #expect(run("~sp\u{1B}").last == .echo(" (cancelled)]\r\n"))
        #expect(run("~sz") == [.help])
    }

    @Test func restrictedSessionsRefuseWhatWouldChangeTheLine() {
        if case .refused = run("~#", restricted: true).first {} else { Issue.record("BREAK allowed") }
        if case .refused = run("~sb", restricted: true).first {} else { Issue.record("set allowed") }
        if case .refused = run("~w", restricted: true).first {} else { Issue.record("lock allowed") }
        #expect(run("~.", restricted: true) == [.quit])
        #expect(run("~qW", restricted: true) == [.query(.who)])
    }

    @Test func pasteIsOneAction() {
        let paste = String(repeating: "echo hello world\r", count: 600)
        #expect(run(paste) == [.send(Array(paste.utf8))])
    }

    /// Every escape that types nothing ends at line start, as in the classic client: the
    /// next `~.` leaves, the next `~sb` sets, nothing of it reaches the console.
    @Test func everyEscapeEndsAtLineStart() {
        let openers = [
            "~?", "~#", "~r", "~w", "~W", "~\u{1A}", "~qW", "~qT", "~qV", "~q\r", "~qx",
            "~sb9600\r", "~sp\u{1B}", "~sb12\u{3}", "~sz",
        ]
        for opener in openers {
            let actions = run(opener + "~.")
            #expect(actions.last == .quit, "after \(opener.debugDescription): \(actions)")
            #expect(!actions.contains { if case .send = $0 { return true } else { return false } }, "after \(opener.debugDescription): \(actions)")
            let set = run(opener + "~sb115200\r")
            #expect(set.last == .set(key: "baud", value: "115200"), "after \(opener.debugDescription): \(set)")
        }
        // Refused escapes of a read-only session end at line start too.
        #expect(run("~#~.", restricted: true).last == .quit)
        #expect(run("~sb~.", restricted: true).last == .quit)
        // Text after an escape still types, and a tilde inside it is text.
        #expect(run("~?ls~.") == [.help, .send(Array("ls~.".utf8))])
        // Split across feeds, as keys arrive one at a time.
        var machine = EscapeMachine(restricted: false)
        for byte in Array("~?".utf8) { _ = machine.feed([byte]) }
        #expect(machine.feed([UInt8(ascii: "~")]) == [])
        #expect(machine.feed([UInt8(ascii: ".")]) == [.quit])
    }
}
