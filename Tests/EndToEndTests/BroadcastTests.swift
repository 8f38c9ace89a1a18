import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// `rtty --broadcast` run by a real local user over two pty consoles and the exec login
/// console: input to every console the user may write to, every byte; the read-only and the
/// forbidden console reported and left out; output prefixed by console and made inert.
@Suite struct BroadcastTests {
    struct Rig {
        let accounts = LocalAccounts()
        let env: TestEnvironment
        let pbx: PtyGuest
        let util: PtyGuest
        let daemon: DaemonProcess
        let user: (name: String, uid: UInt32)

        init() throws {
            env = try TestEnvironment()
            pbx = try PtyGuest()
            util = try PtyGuest()
            let group = try accounts.group("bc")
            user = try accounts.user("op", groups: [group])
            try ScriptTests.Rig.writeLogin(env)
            try "\(user.name) pbx,lab* rw\n\(user.name) util ro\n".write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
            try env.writeConfig(
                """
                [console.pbx]
                device = "\(pbx.devicePath)"
                [console.util]
                device = "\(util.devicePath)"
                [console.lab1]
                exec = ["/usr/bin/python3", "\(env.root)/login.py", "\(env.root)/received"]
                [console.secret]
                exec = ["/bin/cat"]
                """, group: group)
            daemon = try DaemonProcess(env)
            try daemon.waitForSockets(["pbx", "util", "lab1", "secret"])
            try daemon.waitForLog("source open")
            try ScriptTests.Rig.waitForLogin(env)
        }

        func broadcast(_ arguments: [String], input: String) throws -> ProcessRun {
            try LocalAccounts.run(as: user.name, BuiltProducts.path("rtty"), ["--socket-dir", env.socketDir] + arguments, input: input, timeout: 30)
        }

        var received: [UInt8] { Array((try? Data(contentsOf: URL(fileURLWithPath: env.root + "/received"))) ?? Data()) }

        var audit: [String] { env.auditLines }
    }

    @Test(.enabled(if: ScriptTests.needsRoot)) func inputGoesToEveryWritableConsoleAndTheOthersAreReported() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let run = try rig.broadcast(["--broadcast", "pbx,lab*,util,secret,nosuch", "--timeout", "2"], input: "root\r")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("[broadcast to pbx, lab1; ~. ends all, ~? help]"), "\(run.stderr)")
        #expect(run.stderr.contains("console util: your grant is read-only; left out of the broadcast"), "\(run.stderr)")
        #expect(run.stderr.contains("access denied"), "\(run.stderr)")
        #expect(run.stderr.contains("no console nosuch"), "\(run.stderr)")
        // The login console answered, under its name, its title sequence made inert.
        #expect(run.stdout.contains("lab1: \\e]0;root@lab1\\aroot@lab1:~# "), "\(run.stdout.debugDescription)")
        #expect(!run.stdout.contains("\u{1B}]"))
        try rig.pbx.waitFor("root\r")
        #expect(rig.pbx.received == Array("root\r".utf8))
        #expect(rig.received == Array("root\r".utf8))
        // util got nothing: a mark from root is all it has.
        let mark = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["send", "--socket-dir", rig.env.socketDir, "util", #"mark\r"#], input: "")
        #expect(mark.status == 0, "\(mark.stderr)")
        try rig.util.waitFor("mark\r")
        #expect(rig.util.received == Array("mark\r".utf8))
        // Each console's audit shows the user's session: written on pbx and lab1, looked at on util.
        let starts = rig.audit.filter { $0.contains(#""event":"session-start""#) && $0.contains(#""uid":\#(rig.user.uid),"#) }
        for console in ["pbx", "lab1"] {
            #expect(starts.contains { $0.contains(#""console":"\#(console)""#) && $0.contains(#""rights":"rw""#) }, "\(starts)")
        }
        #expect(starts.contains { $0.contains(#""console":"util""#) && $0.contains(#""rights":"ro""#) }, "\(starts)")
        #expect(rig.audit.contains { $0.contains(#""event":"denied""#) && $0.contains(#""console":"secret""#) && $0.contains(#""uid":\#(rig.user.uid),"#) }, "\(rig.audit)")
    }

    /// A console whose program never reads (its pty fills, rttyd holds the input back and
    /// stops reading the session) beside one that takes everything: before, rtty blocked
    /// writing to the first and the second got nothing more. Now the stuck one is left out
    /// after 10 s (`Broadcast.stallSeconds`) and the other gets all 4 MiB, every byte.
    @Test func aConsoleThatTakesNoInputIsLeftOutAndTheOthersGetEveryByte() throws {
        let env = try TestEnvironment()
        let received = env.root + "/received"
        let me = Accounts.currentUserName()
        try "\(me) fast,stuck rw\n".write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
        try env.writeConfig(
            """
            [console.fast]
            exec = ["/bin/sh", "-c", "stty raw -echo; exec cat > \(received)"]
            [console.stuck]
            exec = ["/bin/sleep", "1000"]
            """)
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(["fast", "stuck"])
        let line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ\n"
        let input = String(repeating: line, count: (4 << 20) / line.utf8.count)
        let started = WallClock.monotonicSeconds()
        let run = try ProcessRun.run(
            BuiltProducts.path("rtty"), ["--socket-dir", env.socketDir, "--broadcast", "fast,stuck", "--write-only", "--timeout", "1"],
            input: input, timeout: 60)
        let seconds = WallClock.monotonicSeconds() - started
        #expect(run.status == ExitStatus.error.rawValue, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("[stuck: took no input for 10 s; left out of the broadcast]"), "\(run.stderr)")
        try waitUntil(timeout: 10, "all input in \(received)") {
            ((try? FileManager.default.attributesOfItem(atPath: received))?[.size] as? Int) == input.utf8.count
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: received)) == Data(input.utf8))
        print("broadcast of \(input.utf8.count >> 20) MiB with one console stuck: \(String(format: "%.1f", seconds)) s")
    }

    @Test(.enabled(if: ScriptTests.needsRoot)) func writeOnlyShowsNoOutputAndTheEscapeEndsAll() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let quiet = try rig.broadcast(["--broadcast", "lab1,pbx", "--write-only", "--timeout", "1"], input: "\r")
        #expect(quiet.status == 0, "stderr: \(quiet.stderr)")
        #expect(quiet.stdout.isEmpty, "\(quiet.stdout.debugDescription)")
        try rig.pbx.waitFor("\r")
        // On a terminal: typed text to both, then ~. leaves; neither console got the escape.
        let terminal = try TerminalProcess(
            LocalAccounts.setpriv,
            LocalAccounts.setprivArguments(rig.user.name) + [BuiltProducts.path("rtty"), "--socket-dir", rig.env.socketDir, "--broadcast", "lab1,pbx"])
        try terminal.waitForOutput("~. ends all")
        try terminal.type("root\r")
        try terminal.waitForOutput("lab1: ")
        try terminal.type("~.")
        #expect(try terminal.waitForExit() == 0)
        try rig.pbx.waitFor("\rroot\r")
        // SIGTERM leaves as in one session: said, status 1.
        let killed = try TerminalProcess(
            LocalAccounts.setpriv, LocalAccounts.setprivArguments(rig.user.name) + [BuiltProducts.path("rtty"), "--socket-dir", rig.env.socketDir, "--broadcast", "pbx"])
        try killed.waitForOutput("~. ends all")
        kill(killed.process.processIdentifier, SIGTERM)
        #expect(try killed.waitForExit() == 1)
        try killed.waitForOutput("[rtty: SIGTERM, leaving]")
        let mark = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["send", "--socket-dir", rig.env.socketDir, "pbx", #"mark\r"#], input: "")
        #expect(mark.status == 0, "\(mark.stderr)")
        try rig.pbx.waitFor("mark\r")
        #expect(rig.pbx.received == Array("\rroot\rmark\r".utf8))
        #expect(rig.received == Array("\rroot\r".utf8))
    }

    /// The daemon closes a connection of a user with no rights before reading a byte; a
    /// probe that wrote its HELLO after that died of SIGPIPE (exit 13), so listing (and
    /// --broadcast, which found its consoles by listing) failed now and then.
    @Test(.enabled(if: ScriptTests.needsRoot)) func listingSurvivesConsolesThatRefuseAtOnce() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        for _ in 0..<40 {
            let run = try LocalAccounts.run(as: rig.user.name, BuiltProducts.path("rtty"), ["--socket-dir", rig.env.socketDir, "--all"])
            try #require(run.status == 0, "stderr: \(run.stderr)")
        }
    }

    /// `~b` in a session: the list typed after it and Enter, then typing goes to the console
    /// of the session and to the list; `~.` ends all.
    @Test(.enabled(if: ScriptTests.needsRoot)) func tildeBInASessionStartsABroadcast() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let terminal = try TerminalProcess(
            LocalAccounts.setpriv, LocalAccounts.setprivArguments(rig.user.name) + [BuiltProducts.path("rtty"), "--socket-dir", rig.env.socketDir, "pbx"])
        try terminal.waitForOutput("~? for help")
        try terminal.type("~blab*\r")
        try terminal.waitForOutput("[broadcast to pbx, lab1; ~. ends all")
        try terminal.type("root\r")
        try terminal.waitForOutput("lab1: ")
        try terminal.type("~.")
        #expect(try terminal.waitForExit() == 0)
        try rig.pbx.waitFor("root\r")
        #expect(rig.pbx.received == Array("root\r".utf8))
        #expect(rig.received == Array("root\r".utf8))
    }
}
