import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// `rtty`'s exit status says how the session ended (rtty(1) EXIT STATUS), and each failure
/// says what was tried, why it failed and what to do (issue 13, items 9 and 10). Every
/// status is driven for real: a daemon that denies, kicks, revokes, stops, dies.
@Suite struct ExitStatusTests {
    /// rtty attached with its input on a pipe left open: it stays until the daemon ends it.
    static func attach(_ env: TestEnvironment, _ console: String = "pbx", launcher: [String] = []) throws -> LiveProcess {
        let command = launcher + [BuiltProducts.path("rtty"), "--socket-dir", env.socketDir, console]
        let rtty = try LiveProcess(command[0], Array(command.dropFirst()))
        try waitUntil(timeout: 10, "rtty to attach; stderr: \(rtty.stderr)") { rtty.stderr.contains("[connected to \(console)") }
        return rtty
    }

    static func rttyctl(_ env: TestEnvironment, _ arguments: [String]) throws -> ProcessRun {
        try ControlTests.rttyctl(arguments + ["--control", env.socketDir + "/control"])
    }

    @Test func kickedSessionExitsFour() throws {
        let rig = try PtyConsoleRig()
        let rtty = try Self.attach(rig.env)
        let kick = try Self.rttyctl(rig.env, ["kick", Accounts.currentUserName()])
        #expect(kick.status == 0, "\(kick.stderr)")
        #expect(try rtty.waitForExit() == 4, "stderr: \(rtty.stderr)")
        #expect(rtty.stderr.contains("[you were disconnected by root]"), "\(rtty.stderr)")
    }

    /// Removed by a reload, stopped with SIGTERM, or gone with SIGKILL (no notice at all):
    /// the daemon closed the console, 5.
    @Test func closedConsoleExitsFive() throws {
        let env = try TestEnvironment()
        let console = { (name: String) in "[console.\(name)]\nexec = [\"/bin/cat\"]\n" }
        try env.writeConfig(console("a") + console("b"))
        var daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        let removed = try Self.attach(env, "b")
        try env.writeConfig(console("a"))
        daemon.signal(SIGHUP)
        #expect(try removed.waitForExit() == 5, "stderr: \(removed.stderr)")
        #expect(removed.stderr.contains("[console b was removed from the configuration]"), "\(removed.stderr)")

        let stopped = try Self.attach(env, "a")
        try daemon.stop()
        #expect(try stopped.waitForExit() == 5, "stderr: \(stopped.stderr)")
        #expect(stopped.stderr.contains("[rttyd shutting down]"), "\(stopped.stderr)")

        daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        let killed = try Self.attach(env, "a")
        daemon.signal(SIGKILL)
        #expect(try killed.waitForExit() == 5, "stderr: \(killed.stderr)")
        #expect(killed.stderr.contains("[connection closed by rttyd]"), "\(killed.stderr)")
    }

    @Test func missingConsoleExitsTwoAndSaysWhereItLooked() throws {
        let rig = try PtyConsoleRig()
        let run = try ClientTests.rtty(["--socket-dir", rig.env.socketDir, "nosuch"], input: "")
        #expect(run.status == 2, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("there is no console nosuch in \(rig.env.socketDir)"), "\(run.stderr)")
        #expect(run.stderr.contains("`rtty --socket-dir \(rig.env.socketDir)` lists"), "\(run.stderr)")
    }

    /// No daemon: no socket directory (a wrong --socket-dir), or a socket left behind by a
    /// daemon that died. Status 1, and the words say which and what to do.
    @Test func unreachableDaemonExitsOneAndSaysWhy() throws {
        let env = try TestEnvironment()
        let missing = try ClientTests.rtty(["--socket-dir", env.root + "/x", "pbx"], input: "")
        #expect(missing.status == 1, "stderr: \(missing.stderr)")
        #expect(missing.stderr.contains("the socket directory \(env.root)/x does not exist"), "\(missing.stderr)")
        #expect(missing.stderr.contains("--socket-dir DIR or RTTY_SOCKET_DIR"), "\(missing.stderr)")
        #expect(!missing.stderr.contains("errno"), "\(missing.stderr)")

        try Files.makeDirectory(env.socketDir, mode: 0o755)
        try staleSocket(env.socket("pbx"))
        let stale = try ClientTests.rtty(["--socket-dir", env.socketDir, "pbx"], input: "")
        #expect(stale.status == 1, "stderr: \(stale.stderr)")
        #expect(stale.stderr.contains("nothing answers on the socket (connection refused): rttyd is not running"), "\(stale.stderr)")
    }

    /// A denied user (nobody, with the socket's group so that the daemon is what refuses),
    /// and the same user without the group (the socket's permissions refuse): both 3.
    @Test(.enabled(if: AccessTests.needsRoot)) func deniedUserExitsThree() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let accounts = LocalAccounts()
        let group = try accounts.group("sock")
        let gid = try #require(Accounts.groupID(named: group))
        let env = try TestEnvironment()
        try env.writeConfig("[console.pbx]\nexec = [\"/bin/cat\"]\n", group: group)
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        let nobody = ["--reuid=65534", "--regid=65534"]
        let rtty = [BuiltProducts.path("rtty"), "--socket-dir", env.socketDir, "pbx"]
        let denied = try ProcessRun.run("/usr/bin/setpriv", nobody + ["--groups=\(gid)"] + rtty, input: "")
        #expect(denied.status == 3, "stderr: \(denied.stderr)")
        #expect(denied.stderr.contains("[access denied: nobody may not use console pbx]"), "\(denied.stderr)")
        #expect(denied.stderr.contains("ask an admin for `rttyctl grant nobody pbx`"), "\(denied.stderr)")

        let outside = try ProcessRun.run("/usr/bin/setpriv", nobody + ["--clear-groups"] + rtty, input: "")
        #expect(outside.status == 3, "stderr: \(outside.stderr)")
        #expect(outside.stderr.contains("nobody may not open the socket (mode 0660, root:\(group))"), "\(outside.stderr)")
        #expect(outside.stderr.contains("usermod -a -G \(group) nobody"), "\(outside.stderr)")
    }

    @Test(.enabled(if: AccessTests.needsRoot)) func revokedSessionExitsFour() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let accounts = LocalAccounts()
        let group = try accounts.group("sock")
        let user = try accounts.user("op", groups: [group])
        let env = try TestEnvironment()
        try "\(user.name) pbx rw\n".write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
        try env.writeConfig("[console.pbx]\nexec = [\"/bin/cat\"]\n", group: group)
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        let rtty = try Self.attach(env, launcher: ["/usr/bin/setpriv", "--reuid=\(user.name)", "--regid=\(user.name)", "--init-groups"])
        let revoke = try Self.rttyctl(env, ["revoke", user.name, "pbx"])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect(try rtty.waitForExit() == 4, "stderr: \(rtty.stderr)")
        #expect(rtty.stderr.contains("[access to console pbx was revoked]"), "\(rtty.stderr)")
    }

    /// `--timeout` ends the session while the console has stopped taking input (a command
    /// that never reads, its pty raw: the pty fills, the daemon stops reading the client;
    /// a pty in canonical mode would drop the bytes instead): the part of the input that
    /// never went out is said, and the status is 1, not 0.
    @Test func inputNeverSentFailsTheTimeout() throws {
        let env = try TestEnvironment()
        try env.writeConfig("[console.stuck]\nexec = [\"/bin/sh\", \"-c\", \"stty raw -echo; exec sleep 600\"]\n")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        // 8 MiB from a file, not a pipe the test writes: should rtty stop reading early, a
        // pipe would end the test process with SIGPIPE instead of failing the test.
        let input = env.root + "/input"
        try String(repeating: "0123456789abcdef", count: 8 << 16).write(toFile: input, atomically: true, encoding: .utf8)
        let rtty = [BuiltProducts.path("rtty"), "--socket-dir", env.socketDir, "--timeout", "1", "stuck"]
        let run = try ProcessRun.run("/bin/sh", ["-c", "exec \"$@\" < \"$0\"", input] + rtty, input: "", timeout: 60)
        #expect(run.status == 1, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("bytes of input were never sent to console stuck"), "\(run.stderr)")
    }
}
