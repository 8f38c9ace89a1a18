import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// What a guest prints reaches an admin's terminal through `rttyctl log` and `rttyctl
/// replay`: clipboard writes (OSC 52), title sets, queries a terminal answers by typing
/// (ESC[6n, ESC[21t, DECRQSS) are shown, not obeyed; text and SGR colours pass.
@Suite struct GuestOutputTests {
    /// Six hostile lines and what a terminal must be shown of each.
    static let printed: [(bytes: [UInt8], shown: String)] = [
        (Array("title \u{1B}]0;pwned\u{07} done\r\n".utf8), "title \\e]0;pwned\\a done\r\n"),
        (Array("clip \u{1B}]52;c;cm0gLXJmIH4=\u{1B}\\ done\r\n".utf8), "clip \\e]52;c;cm0gLXJmIH4=\\e\\ done\r\n"),
        (Array("ask \u{1B}[6n\u{1B}[21t done\r\n".utf8), "ask \\e[6n\\e[21t done\r\n"),
        (Array("rqss \u{1B}P$qm\u{1B}\\ done\r\n".utf8), "rqss \\eP$qm\\e\\ done\r\n"),
        (Array("colour \u{1B}[1;31mred\u{1B}[0m \u{1B}[38;5;208morange\u{1B}[m\r\n".utf8), "colour \u{1B}[1;31mred\u{1B}[0m \u{1B}[38;5;208morange\u{1B}[m\r\n"),
        (Array("bell\u{07} c1 \u{9B}6n bad ".utf8) + [0xFF] + Array("\r\n".utf8), "bell\\a c1 \\u{9b}6n bad \\xff\r\n"),
    ]
    static var hostile: [UInt8] { printed.flatMap(\.bytes) }
    /// As a pty shows it: the terminal's output processing turns each \n into \r\n.
    static var shown: String { printed.map(\.shown).joined().replacingOccurrences(of: "\n", with: "\r\n") }

    static func rttyctlOnTerminal(_ arguments: [String]) throws -> String {
        let run = try TerminalProcess(BuiltProducts.path("rttyctl"), arguments)
        let status = try run.waitForExit()
        #expect(status == 0, "rttyctl \(arguments): \(run.output.debugDescription)")
        // The reader thread may not yet have taken everything from the pty: wait until it stops growing.
        var last = -1
        try waitUntil(timeout: 5, "the terminal to drain") {
            defer { last = run.output.utf8.count }
            usleep(100_000)
            return run.output.utf8.count == last
        }
        return run.output
    }

    @Test func logShowsSequencesInsteadOfObeyingThem() throws {
        let rig = try PtyConsoleRig()
        try rig.guest.write(Self.hostile)
        try rig.guest.write("end\r\n")
        try waitUntil(timeout: 10, "the log to hold the last line") { String(decoding: rig.env.logContents("pbx"), as: UTF8.self).hasSuffix("end\r\n") }
        let control = ["--control", rig.env.socketDir + "/control"]
        let screen = try Self.rttyctlOnTerminal(["log", "-n", "7"] + control + ["pbx"])
        #expect(Array(screen.utf8) == Array((Self.shown + "end\r\r\n").utf8), "the terminal got \(screen.debugDescription)")
        // --raw: the bytes as the guest printed them.
        let raw = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["log", "--raw", "-n", "7"] + control + ["pbx"], input: "")
        #expect(Array(raw.stdout.utf8.prefix(20)) == Array(Self.hostile.prefix(20)), "\(raw.stdout.debugDescription) \(raw.stderr)")
    }

    @Test func replayShowsSequencesInOutputAndInput() throws {
        let rig = try PtyConsoleRig()
        let client = try rig.client(who: "guest@pts/2")
        client.clear()
        try rig.guest.write(Self.hostile)
        try client.waitForData(containing: "bad ")
        try client.pump(timeout: 0.3)
        try client.type("typed \u{1B}]52;c;eA==\u{07}\r")
        try rig.guest.waitFor("typed")
        client.disconnect()
        let audit = rig.env.logDir + "/audit.jsonl"
        try waitUntil(timeout: 10, "the session-end record") { ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").contains("session-end") }
        let start = try #require(try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").first { $0.contains("session-start") })
        let session = try #require(auditRecord(start)?.session)
        let control = ["--control", rig.env.socketDir + "/control"]

        let screen = try Self.rttyctlOnTerminal(["replay", "--no-wait", "--show-input"] + control + [session])
        // Bytes that are not UTF-8 are kept in the transcript as U+FFFD (as asciinema does).
        let output = Self.shown.replacingOccurrences(of: "\\xff", with: "\u{FFFD}")
        let input = "\u{1B}[7mtyped \\e]52;c;eA==\\a\r\u{1B}[27m"
        #expect(Array(screen.utf8) == Array((output + input).utf8), "the terminal got \(screen.debugDescription)")

        let raw = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["replay", "--no-wait", "--raw"] + control + [session], input: "")
        #expect(raw.stdout.contains("\u{1B}]52;c;cm0gLXJmIH4=\u{1B}\\"), "\(raw.stdout.debugDescription)")
        let cast = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["replay", "--cast"] + control + [session], input: "")
        #expect(cast.stdout.hasPrefix("{\"version\":2"), "\(cast.stdout.prefix(200)) \(cast.stderr)")
    }

    /// A member of the admin group (not root) reads and follows a console log, which is
    /// root-only on disk, through the daemon. Before: tail said "Permission denied".
    @Test(.enabled(if: AccessTests.needsRoot)) func adminGroupMemberReadsAndFollowsTheLog() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let accounts = LocalAccounts()
        let admins = try accounts.group("admins")
        let admin = try accounts.user("adm", groups: [admins])
        let rig = try PtyConsoleRig(extra: "[control]\nadmin_group = \"\(admins)\"")
        try rig.guest.write("before follow\r\n")
        try waitUntil(timeout: 10, "the log") { String(decoding: rig.env.logContents("pbx"), as: UTF8.self).contains("before follow") }
        let follow = try TerminalProcess(
            "/usr/bin/setpriv",
            ["--reuid=\(admin.name)", "--regid=\(admin.name)", "--init-groups", BuiltProducts.path("rttyctl"), "log", "-f", "-n", "1",
             "--control", rig.env.socketDir + "/control", "pbx"])
        try follow.waitForOutput("before follow")
        try rig.guest.write("after \u{1B}]0;x\u{07}follow\r\n")
        try follow.waitForOutput("after \\e]0;x\\afollow")
        #expect(follow.process.isRunning)
    }
}
