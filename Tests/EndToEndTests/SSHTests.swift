import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The story in SPEC.md through the real OpenSSH server: `ssh user@host` lands in a console.
/// Each test builds its own sshd, users and daemon (SSHRig); they need root, as CI is.
@Suite(.serialized) struct SSHTests {
    static let echo = #"exec = ["/bin/sh", "-c", "while read line; do echo \"$0:$line\"; done", "NAME"]"#

    static func echoConsole(_ name: String) -> String {
        "[console.\(name)]\n" + echo.replacingOccurrences(of: "NAME", with: name) + "\n"
    }

    static func line(_ audit: String, _ event: String, user: String) -> String? {
        audit.split(separator: "\n").map(String.init).first { $0.contains("\"event\":\"\(event)\"") && $0.contains("\"user\":\"\(user)\"") }
    }

    @Test(.enabled(if: SSHRig.enabled)) func oneConsoleUserLandsInItAndRoundTripsBytes() throws {
        let rig = try SSHRig(consoles: Self.echoConsole("pbx"), roles: ["solo"], grants: [.init(role: "solo", consoles: "pbx", rights: "rw")])
        let wrong = try rig.ssh("solo", input: "not-the-password\nping\n")
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("login refused"), "\(wrong.stderr)")
        try waitUntil(timeout: 5, "a login-failed record:\n\(rig.audit)") { Self.line(rig.audit, "login-failed", user: rig.user("solo")) != nil }

        let run = try rig.ssh("solo", input: "\(SSHRig.password)\nping\n")
        #expect(run.status == 0, "stderr: \(run.stderr)\nsshd: \(rig.sshdLog)")
        #expect(run.stdout.contains("pbx:ping"), "stdout: \(run.stdout)\nstderr: \(run.stderr)")
        try waitUntil(timeout: 5, "the session-end record; audit:\n\(rig.audit)") { Self.line(rig.audit, "session-end", user: rig.user("solo")) != nil }
        let start = try #require(Self.line(rig.audit, "session-start", user: rig.user("solo")))
        let info = try #require(Self.line(rig.audit, "session-info", user: rig.user("solo")))
        #expect(info.contains(#""claimed_from":"127.0.0.1 "#), "\(info)")
        #expect(start.contains(#""uid":\#(Accounts.userID(named: rig.user("solo")) ?? 0)"#), "\(start)")
        let end = try #require(Self.line(rig.audit, "session-end", user: rig.user("solo")))
        #expect(end.contains(#""bytes_in":5"#), "\(end)")
    }

    @Test(.enabled(if: SSHRig.enabled)) func severalConsolesGetTheMenuAndSshTtyNamesOne() throws {
        let rig = try SSHRig(
            consoles: Self.echoConsole("pbx") + Self.echoConsole("util"), roles: ["multi"],
            grants: [.init(role: "multi", consoles: "pbx,util", rights: "rw")])
        let menu = try rig.ssh("multi", input: "\(SSHRig.password)\n2\nhello\n")
        #expect(menu.stdout.contains("1) pbx"), "stdout: \(menu.stdout)\nstderr: \(menu.stderr)")
        #expect(menu.stdout.contains("2) util"))
        #expect(menu.stdout.contains("util:hello"))

        // `ssh -t host pbx`: a pty on the far side, raw mode, `~.` ends it.
        let session = try rig.startSSH("multi", ["pbx"], tty: true)
        try session.waitForOutput("assword")
        session.write("\(SSHRig.password)\r")
        try session.waitForOutput("pbx")
        Thread.sleep(forTimeInterval: 0.3)
        session.write("typed\r")
        try session.waitForOutput("pbx:typed")
        session.write("~.")
        #expect(try session.waitForExit() == 0, "stderr: \(session.stderr)")
    }

    @Test(.enabled(if: SSHRig.enabled)) func ungrantedUserIsRefusedByTheShellAndByTheDaemon() throws {
        let rig = try SSHRig(
            consoles: Self.echoConsole("pbx"), roles: ["solo", "stranger"], grants: [.init(role: "solo", consoles: "pbx", rights: "rw")])
        let run = try rig.ssh("stranger", ["pbx"], input: "\(SSHRig.password)\nhello\n")
        #expect(run.status != 0)
        #expect(run.stderr.contains("may not use a console named pbx"), "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("pbx:hello"))
        try waitUntil(timeout: 5, "the refusal in the audit log:\n\(rig.audit)") { Self.line(rig.audit, "refused", user: rig.user("stranger")) != nil }

        // Straight at the socket: not in the socket group, the file system says no...
        let uid = try #require(Accounts.userID(named: rig.user("stranger")))
        let gid = try #require(Accounts.primaryGroup(ofUser: rig.user("stranger")))
        let socketGID = try #require(Accounts.groupID(named: rig.socketGroup))
        let socat = ["-t", "1", "-", "UNIX-CONNECT:\(rig.env.socket("pbx"))"]
        let outside = try ProcessRun.run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "/usr/bin/socat"] + socat, input: "")
        #expect(outside.status != 0)
        #expect(outside.stderr.contains("Permission denied"), "\(outside.stderr)")
        // ...and with the group (as a setgid program would have it), rttyd says no by uid.
        let inside = try ProcessRun.run(
            "/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--groups=\(socketGID)", "/usr/bin/socat"] + socat, input: "")
        #expect(inside.stdout.contains("access denied"), "stdout: \(inside.stdout.debugDescription) stderr: \(inside.stderr)")
        try waitUntil(timeout: 5, "a denied record:\n\(rig.audit)") { Self.line(rig.audit, "denied", user: rig.user("stranger")) != nil }
    }

    @Test(.enabled(if: SSHRig.enabled)) func readOnlyUserWatchesButCannotTypeOrSendBreak() throws {
        let guest = try PtyGuest()
        let rig = try SSHRig(
            consoles: "[console.pbx]\ndevice = \"\(guest.devicePath)\"\n", roles: ["watcher"],
            grants: [.init(role: "watcher", consoles: "pbx", rights: "ro")])
        let session = try rig.startSSH("watcher", ["pbx"], tty: true)
        try session.waitForOutput("assword")
        session.write("\(SSHRig.password)\r")
        try rig.daemon.waitForLog("attached: \(rig.user("watcher"))")
        try guest.write("guest speaks\r\n")
        try session.waitForOutput("guest speaks")
        session.write("typed\r~#")
        try session.waitForOutput("read-only")
        session.write("\r~.")
        try session.waitForExit()
        #expect(try !guest.received("typed", beforeMarkerTypedOn: rig.env.socket("pbx")), "a read-only session reached the device")
        #expect(Self.line(rig.audit, "break", user: rig.user("watcher")) == nil, "\(rig.audit)")
        // Watching is in the console log already: no transcript for a read-only session.
        let start = try #require(Self.line(rig.audit, "session-start", user: rig.user("watcher")))
        #expect(!start.contains("transcript"), "\(start)")
    }

    @Test(.enabled(if: SSHRig.enabled)) func forwardingToTheConsoleSocketIsRefused() throws {
        let rig = try SSHRig(consoles: Self.echoConsole("pbx"), roles: ["solo"], grants: [.init(role: "solo", consoles: "pbx", rights: "rw")])
        // `ssh -L local.sock:/run/rtty/pbx`: a stream-local forward to the console socket.
        let local = rig.env.root + "/forwarded.sock"
        let forward = try rig.startSSH("solo", options: ["-o", "LogLevel=INFO", "-N", "-L", "\(local):\(rig.env.socket("pbx"))"])
        try waitUntil(timeout: 10, "ssh to listen on \(local); stderr: \(forward.stderr)") { Files.isSocket(local) }
        let through = try ProcessRun.run("/usr/bin/socat", ["-t", "2", "-", "UNIX-CONNECT:\(local)"], input: "")
        #expect(!through.stdout.contains("authorized"), "the console answered through a forward: \(through.stdout.debugDescription)")
        try waitUntil(timeout: 5, "ssh to report the refused channel; stderr: \(forward.stderr)") { forward.stderr.contains("open failed") }
        #expect(Self.line(rig.audit, "session-start", user: rig.user("solo")) == nil, "\(rig.audit)")
    }

    @Test(.enabled(if: SSHRig.enabled)) func sftpAndShellCommandsAreRefused() throws {
        let rig = try SSHRig(consoles: Self.echoConsole("pbx"), roles: ["solo"], grants: [.init(role: "solo", consoles: "pbx", rights: "rw")])
        let shell = try rig.ssh("solo", ["/bin/sh"], input: "id\n")
        #expect(shell.status != 0)
        #expect(shell.stderr.contains("sh is not available here"), "\(shell.stderr)")
        #expect(!shell.stdout.contains("uid="))
        let sftpOptions = ["-b", "-", "-P", String(rig.port)] + Array(rig.sshOptions.dropFirst(2).dropLast(2))
        let (program, arguments) = ProcessRun.shielded("/usr/bin/sftp", sftpOptions + ["\(rig.user("solo"))@127.0.0.1"])
        let sftp = try ProcessRun.run(program, arguments, input: "ls /\n")
        #expect(sftp.status != 0)
        #expect(!sftp.stdout.contains("etc"), "\(sftp.stdout)")
        try waitUntil(timeout: 5, "two refusals in the audit log:\n\(rig.audit)") {
            rig.audit.split(separator: "\n").filter { $0.contains(#""event":"refused""#) }.count == 2
        }
        #expect(rig.audit.contains("internal-sftp"))
    }

    @Test(.enabled(if: SSHRig.enabled)) func grantLetsInAndRevokeEndsTheLiveSessionAtOnce() throws {
        let rig = try SSHRig(consoles: Self.echoConsole("pbx"), roles: ["late"], grants: [])
        let before = try rig.ssh("late", ["pbx"], input: "\(SSHRig.password)\n")
        #expect(before.status != 0, "a user with no ACL line got in")

        let granted = try rig.rttyctl(["grant", rig.user("late"), "pbx"])
        #expect(granted.status == 0, "\(granted.stderr)")
        let acl = try String(contentsOfFile: rig.accessPath, encoding: .utf8)
        #expect(acl.hasPrefix("# test ACL\n"), "comments are kept: \(acl)")
        #expect(acl.contains("\(rig.user("late")) pbx rw  # rttyctl grant by root"), "\(acl)")
        #expect(try rig.rttyctl(["acl", "check", rig.user("late"), "pbx"]).stdout.contains(": rw"))

        let session = try rig.startSSH("late", ["pbx"])
        session.write("\(SSHRig.password)\nping\n")
        try session.waitForOutput("pbx:ping")

        let revoked = try rig.rttyctl(["revoke", rig.user("late"), "pbx"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let revokedAt = Date()
        try waitUntil(timeout: 1, "the live session to end within a second; audit:\n\(rig.audit)") {
            rig.audit.contains(#""reason":"access revoked""#)
        }
        try waitUntil(timeout: 5, "the revocation notice; stderr: \(session.stderr)") { session.stderr.contains("was revoked") }
        #expect(try session.waitForExit(timeout: 5) == 4, "detached by an admin: stderr \(session.stderr)")
        #expect(Date().timeIntervalSince(revokedAt) < 5)
        #expect(try !String(contentsOfFile: rig.accessPath, encoding: .utf8).contains("\(rig.user("late")) pbx rw"))
        let audit = rig.audit
        let records = auditFields(audit)
        let grant = ["event": "grant", "user": "root", "subject": rig.user("late"), "consoles": "pbx", "rights": "rw"]
        #expect(records.contains { record in grant.allSatisfy { record[$0.key] == $0.value } }, "\(audit)")
        #expect(records.contains { $0["event"] == "revoke" && $0["user"] == "root" && $0["subject"] == rig.user("late") }, "\(audit)")
        #expect(audit.contains(#""event":"denied""#) == false, "rtty-shell refused before the daemon was asked")

        let unknown = try rig.rttyctl(["grant", "no-such-user-\(rig.tag)", "pbx"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("useradd"), "\(unknown.stderr)")
        let noConsole = try rig.rttyctl(["grant", rig.user("late"), "nosuch"])
        #expect(noConsole.stderr.contains("no console nosuch"), "\(noConsole.stderr)")
    }

    /// rtty-shell's exit status is ssh's (rtty-shell(8) EXIT STATUS): denied 3 (also for a
    /// console that does not exist: an ssh user learns no names), a refused option 1 with
    /// the option named, kicked 4, the daemon stopped 5.
    @Test(.enabled(if: SSHRig.enabled)) func exitStatusesReachTheSSHClient() throws {
        let rig = try SSHRig(
            consoles: Self.echoConsole("pbx"), roles: ["solo", "stranger"], grants: [.init(role: "solo", consoles: "pbx", rights: "rw")])
        let denied = try rig.ssh("stranger", ["pbx"], input: "\(SSHRig.password)\n")
        #expect(denied.status == 3, "stderr: \(denied.stderr)")
        let missing = try rig.ssh("solo", ["nosuch"], input: "\(SSHRig.password)\n")
        #expect(missing.status == 3, "stderr: \(missing.stderr)")
        #expect(missing.stderr.contains("may not use a console named nosuch (or there is none)"), "\(missing.stderr)")
        // `--`: ssh's own end of options; the command is `--socket-dir=/tmp/x`.
        let option = try rig.ssh("solo", ["--", "--socket-dir=/tmp/x"], input: "")
        #expect(option.status == 1, "stderr: \(option.stderr)")
        #expect(option.stderr.contains("the option --socket-dir=/tmp/x is not available here"), "\(option.stderr)")

        let kicked = try rig.startSSH("solo", ["pbx"])
        kicked.write("\(SSHRig.password)\nping\n")
        try kicked.waitForOutput("pbx:ping")
        #expect(try rig.rttyctl(["kick", rig.user("solo")]).status == 0)
        #expect(try kicked.waitForExit() == 4, "stderr: \(kicked.stderr)")
        #expect(kicked.stderr.contains("[you were disconnected by root]"), "\(kicked.stderr)")

        let stopped = try rig.startSSH("solo", ["pbx"])
        stopped.write("\(SSHRig.password)\nping\n")
        try stopped.waitForOutput("pbx:ping")
        try rig.daemon.stop()
        #expect(try stopped.waitForExit() == 5, "stderr: \(stopped.stderr)")
        #expect(stopped.stderr.contains("[rttyd shutting down]"), "\(stopped.stderr)")
    }

    @Test(.enabled(if: SSHRig.enabled)) func droppedConnectionEndsTheSessionAndClosesItsRecord() throws {
        let rig = try SSHRig(consoles: Self.echoConsole("pbx"), roles: ["solo"], grants: [.init(role: "solo", consoles: "pbx", rights: "rw")])
        let session = try rig.startSSH("solo", ["pbx"], tty: true)
        try session.waitForOutput("assword")
        session.write("\(SSHRig.password)\r")
        try session.waitForOutput("connected to pbx")
        // The network goes away: sshd hangs up the pty, rtty-shell gets SIGHUP and leaves.
        ProcessRun.killTree(session.process.processIdentifier)
        try waitUntil(timeout: 5, "the session-end record; audit:\n\(rig.audit)") { Self.line(rig.audit, "session-end", user: rig.user("solo")) != nil }
        try waitUntil(timeout: 5, "rtty-shell to exit") {
            (try ProcessRun.run("/usr/bin/pgrep", ["-u", rig.user("solo")], input: "")).stdout.isEmpty
        }
    }
}
