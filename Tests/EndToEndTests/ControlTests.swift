import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// rttyctl against the daemon's control socket.
@Suite struct ControlTests {
    static func rttyctl(_ arguments: [String], executable: String? = nil, prefix: [String] = []) throws -> ClientTests.Run {
        try ClientTests.rtty(prefix + arguments, input: "", executable: executable ?? BuiltProducts.path("rttyctl"))
    }

    @Test func statusSetBreakKickAndReload() throws {
        let rig = try PtyConsoleRig()
        let control = ["--control", rig.env.socketDir + "/control"]
        let watcher = try rig.client(who: "watcher@pts/4")

        let status = try Self.rttyctl(["status"] + control)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("pbx  up  device \(rig.guest.devicePath)  baud=115200"))
        #expect(status.stdout.contains("clients: 1"))

        let json = try Self.rttyctl(["who", "--json"] + control)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let clients = ((object?["consoles"] as? [[String: Any]])?.first?["clients"] as? [[String: Any]]) ?? []
        #expect(clients.first?["who"] as? String == "\(Accounts.currentUserName())@pts/4")

        let set = try Self.rttyctl(["set"] + control + ["pbx", "baud=57600"])
        #expect(set.status == 0, "\(set.stderr)")
        try watcher.waitForNotice(containing: "line settings now 57600 8N1")
        #expect(try Termios.currentSettings(rig.guest.pair.slave).baud == 57_600)

        #expect(set.stdout.contains("pbx: line settings now baud=57600 data=8 parity=none"), "\(set.stdout)")

        // What the device holds is what rttyctl says: a pty keeps 8N1 whatever is asked
        // (on kernels whose ptys refuse framing changes), and that is an error for scripts.
        let odd = try Self.rttyctl(["set"] + control + ["pbx", "parity=odd"])
        if PtyGuest.acceptsParity() {
            #expect(odd.status == 0 && odd.stdout.contains("parity=odd"), "\(odd.stdout) \(odd.stderr)")
        } else {
            #expect(odd.status != 0, "\(odd.stdout)")
            #expect(odd.stdout.contains("line settings now baud=57600 data=8 parity=none"), "\(odd.stdout)")
            #expect(odd.stderr.contains("the device did not take parity=odd"), "\(odd.stderr)")
        }

        let bad = try Self.rttyctl(["set"] + control + ["pbx", "baud=fast"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("baud=fast"))

        #expect(try Self.rttyctl(["break"] + control + ["pbx"]).status == 0)
        try watcher.waitForNotice(containing: "BREAK sent by")

        let session = clients.first?["session"] as? String ?? "?"
        let kick = try Self.rttyctl(["kick"] + control + [session])
        #expect(kick.status == 0, "\(kick.stderr)")
        try watcher.waitForClose()
        #expect(watcher.notices.contains { $0.contains("disconnected by") })

        #expect(try Self.rttyctl(["reload"] + control).status == 0)
        try rig.daemon.waitForLog("configuration reloaded")
        let audit = try String(contentsOfFile: rig.env.logDir + "/audit.jsonl", encoding: .utf8)
        for event in ["settings", "break", "kick", "reload"] {
            #expect(audit.contains("\"event\":\"\(event)\""), "no \(event) in the audit log")
        }
    }

    /// --control and --json before the subcommand, as git, systemctl and virsh take them,
    /// and after it; RTTY_CONTROL when neither: every subcommand that asks the daemon.
    @Test func controlOptionsBeforeOrAfterEverySubcommand() throws {
        let rig = try PtyConsoleRig()
        let control = ["--control", rig.env.socketDir + "/control"]
        let me = Accounts.currentUserName()
        let requests: [[String]] = [
            ["status"], ["status", "pbx"], ["who"], ["who", "pbx"], ["break", "pbx"],
            ["set", "pbx", "baud=115200"], ["grant", me, "pbx"], ["revoke", me, "pbx"], ["acl"], ["acl", "show"],
            ["acl", "check", me, "pbx"], ["reload"], ["sessions"], ["sessions", "--console", "pbx"],
        ]
        for request in requests {
            for arguments in [control + request, request + control, [request[0]] + control + Array(request.dropFirst())] {
                let run = try Self.rttyctl(arguments)
                #expect(run.status == 0, "rttyctl \(arguments.joined(separator: " ")): \(run.stderr)")
                // The line carries one BREAK at a time (300 ms); the next would be dropped.
                if request[0] == "break" { Thread.sleep(forTimeInterval: 0.35) }
            }
        }
        // An unknown session: answered (refused) by this daemon, whichever way.
        for request in [["kick", "no-such-session"], ["replay", "no-such-session"]] {
            for arguments in [control + request, request + control] {
                let run = try Self.rttyctl(arguments)
                #expect(run.status != 0 && run.stderr.contains("rttyd: "), "rttyctl \(arguments.joined(separator: " ")): \(run.stderr)")
            }
        }
        let json = try Self.rttyctl(["--json"] + control + ["status"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["ok"] as? Bool == true, "\(json.stdout) \(json.stderr)")
        let environment = ["PATH": "/usr/bin:/bin", "RTTY_CONTROL": rig.env.socketDir + "/control"]
        let fromEnvironment = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["status"], input: "", environment: environment)
        #expect(fromEnvironment.stdout.contains("pbx  up"), "\(fromEnvironment.stderr)")
    }

    /// A control socket out of reach: no directory, no socket, a socket left by a daemon
    /// that died. Each says what was tried and what to do, never a bare errno.
    /// A peer that half-closes its side after the request line (shutdown(SHUT_WR), as
    /// `printf ... | socat` does at the end of its input) still has the request carried out
    /// and gets the whole answer: a change, a small answer and a streamed one.
    @Test func aHalfClosedRequestRunsAndIsAnswered() throws {
        let rig = try PtyConsoleRig()
        let control = rig.env.socketDir + "/control"
        try rig.guest.write("first line\r\nlast line\r\n")
        try waitUntil(timeout: 5, "both lines in the console log") { String(decoding: rig.env.logContents("pbx"), as: UTF8.self).contains("last line") }
        func ask(_ line: String) throws -> String {
            let client = try ControlClient(path: control)
            defer { client.close() }
            #expect(client.write(line + "\n"))
            #expect(shutdown(client.fd.rawValue, Int32(SHUT_WR)) == 0)
            return try client.readAll()
        }
        let set = try ask("set pbx baud=57600")
        #expect(controlOutcome(set)?.ok == true && set.contains("baud=57600"), "\(set)")
        #expect(try Termios.currentSettings(rig.guest.pair.slave).baud == 57_600)
        let status = try ask("status pbx")
        #expect(controlOutcome(status)?.ok == true && status.contains(#""baud=57600"#), "\(status)")
        let log = try ask("log pbx 20")
        #expect(controlOutcome(log)?.ok == true && log.contains("first line") && log.contains("last line"), "\(log.debugDescription)")
        // socat shuts down its write side at the end of its input and waits for the answer.
        let socat = try ProcessRun.run("/usr/bin/socat", ["-t", "10", "-", "UNIX-CONNECT:" + control], input: "status pbx\n")
        #expect(controlOutcome(socat.stdout)?.ok == true && socat.stdout.contains(#""baud=57600"#), "\(socat.stdout) \(socat.stderr)")
    }

    @Test func unreachableDaemonIsExplained() throws {
        let env = try TestEnvironment()
        let missing = try Self.rttyctl(["status", "--control", env.root + "/run/control"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot reach rttyd at \(env.root)/run/control: \(env.root)/run does not exist"), "\(missing.stderr)")
        #expect(missing.stderr.contains("--control PATH or RTTY_CONTROL"), "\(missing.stderr)")
        try Files.makeDirectory(env.socketDir, mode: 0o755)
        let none = try Self.rttyctl(["status", "--control", env.socketDir + "/control"])
        #expect(none.stderr.contains("there is no control socket; rttyd is not running"), "\(none.stderr)")
        try staleSocket(env.socketDir + "/control")
        let stale = try Self.rttyctl(["status", "--control", env.socketDir + "/control"])
        #expect(stale.stderr.contains("nothing answers on the socket (connection refused): rttyd is not running"), "\(stale.stderr)")
        for run in [missing, none, stale] {
            #expect(run.status == 1 && !run.stderr.contains("(errno"), "\(run.stderr)")
        }
    }

    @Test(.enabled(if: AccessTests.needsRoot)) func controlSocketRefusesOrdinaryUsers() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let env = try TestEnvironment()
        try env.writeConfig("[console.x]\nexec = [\"/bin/cat\"]\n")
        // Let `nobody` reach the socket file, so that the daemon's own check is what refuses.
        try (try String(contentsOfFile: env.configPath, encoding: .utf8) + "\n[control]\nadmin_group = \"rtty-test-admins\"\n")
            .write(toFile: env.configPath, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        chmod(env.socketDir + "/control", 0o666)
        let run = try Self.rttyctl(
            ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltProducts.path("rttyctl"), "status", "--control", env.socketDir + "/control"],
            executable: "/usr/bin/setpriv")
        #expect(run.status != 0)
        #expect(run.stderr.contains("permission denied"), "\(run.stderr)")
    }

    /// A peer the control socket refuses: it connects, waits for the daemon to speak first,
    /// and only then writes its request. The refusal must come before the request is
    /// written, and the daemon must never read it (its debug log shows every line it reads).
    @Test(.enabled(if: AccessTests.needsRoot)) func controlSocketChecksThePeerBeforeReading() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let accounts = LocalAccounts()
        let outsider = try accounts.user("peek")
        let env = try TestEnvironment()
        try env.writeConfig("[console.x]\nexec = [\"/bin/cat\"]\n[control]\nadmin_group = \"\(try accounts.group("admins"))\"\n")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        // Let the outsider reach the socket file, so that the daemon's own check is what refuses.
        chmod(env.socketDir + "/control", 0o666)
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            s.settimeout(5)
            try:
                first = s.recv(65536)
            except socket.timeout:
                first = b""
            print("before writing:", first.decode(errors="replace").strip())
            try:
                s.sendall(b"status MARKER-UNREAD\\n")
                s.settimeout(5)
                print("after writing:", s.recv(65536).decode(errors="replace").strip())
            except OSError as error:
                print("after writing:", error)
            """
        let run = try LocalAccounts.run(as: outsider.name, "/usr/bin/python3", ["-c", script, env.socketDir + "/control"])
        #expect(run.stdout.contains("before writing: {\"error\":\"permission denied") && run.stdout.contains("\"ok\":false}"), "\(run.stdout)\(run.stderr)")
        try daemon.waitForLog("control: refused uid \(outsider.uid)")
        #expect(controlOutcome(try ControlClient.ask(env.socketDir + "/control", "status"))?.ok == true)
        try daemon.waitForLog("control: uid 0: \"status\"")
        #expect(!daemon.stderr.contains("MARKER-UNREAD"), "the daemon read the refused peer's request:\n\(daemon.stderr)")
        #expect(!run.stdout.contains("after writing: {"), "a second answer, to the request: \(run.stdout)")
    }

    /// A real admin-group member (not root) asks for the ACL, which is root-only 0640: the
    /// daemon answers with what it loaded and decides, never an empty list.
    @Test(.enabled(if: AccessTests.needsRoot)) func adminGroupMemberSeesTheDaemonsACL() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let accounts = LocalAccounts()
        let admins = try accounts.group("admins")
        let admin = try accounts.user("adm", groups: [admins])
        let granted = try accounts.user("op")
        let env = try TestEnvironment()
        let acl = env.root + "/access"
        try "# ops\n\(granted.name) x rw\nthis line is bad\n".write(toFile: acl, atomically: true, encoding: .utf8)
        chmod(acl, 0o640)  // root:root: the admin cannot read it
        try env.writeConfig("[console.x]\nexec = [\"/bin/cat\"]\n[control]\nadmin_group = \"\(admins)\"\n")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        let control = ["--control", env.socketDir + "/control"]
        let rttyctl = { (arguments: [String]) in try LocalAccounts.run(as: admin.name, BuiltProducts.path("rttyctl"), arguments) }

        let list = try rttyctl(["acl"] + control)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("\(granted.name)\tx\trw\t# line 2"), "\(list.stdout)")
        #expect(list.stdout.contains("# problem: \(acl):3: expected three fields"), "\(list.stdout)")

        let check = try rttyctl(["acl", "check"] + control + [granted.name, "x"])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout == "\(granted.name) x: rw (\(acl) line 2)\n", "\(check.stdout)")
        let denied = try rttyctl(["acl", "check"] + control + [admin.name, "x"])
        // The line the parser cannot read denies everyone from there on.
        #expect(denied.stdout == "\(admin.name) x: none (\(acl) line 3)\n", "\(denied.stdout)")
        let json = try rttyctl(["acl", "check", "--json"] + control + [granted.name, "x"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["ok"] as? Bool == true && object?["uid"] as? Int == Int(granted.uid) && object?["rights"] as? String == "rw")

        // A user outside the admin group cannot even open the socket (0660, that group):
        // an error and a failing exit status, never an empty list.
        let outsider = try LocalAccounts.run(as: granted.name, BuiltProducts.path("rttyctl"), ["acl"] + control)
        #expect(outsider.status != 0 && outsider.stdout.isEmpty, "\(outsider.stdout)")
        #expect(outsider.stderr.contains("\(granted.name) may not open the socket (mode 0660, root:\(admins))"), "\(outsider.stderr)")
        #expect(outsider.stderr.contains("usermod -a -G \(admins) \(granted.name)"), "\(outsider.stderr)")
        #expect(!outsider.stderr.contains("is rttyd running"), "\(outsider.stderr)")
        // No daemon to ask: the same.
        let lost = try rttyctl(["acl", "--control", env.root + "/no-such-socket"])
        #expect(lost.status != 0 && lost.stdout.isEmpty, "\(lost.stdout)")
        #expect(lost.stderr.contains("cannot reach rttyd"), "\(lost.stderr)")
        // The daemon cannot read the ACL either: said, and the exit status says so.
        try FileManager.default.removeItem(atPath: acl)
        daemon.signal(SIGHUP)
        try daemon.waitForLog("configuration reloaded")
        let gone = try rttyctl(["acl"] + control)
        #expect(gone.status != 0 && gone.stderr.contains("nobody but root gets in"), "\(gone.stdout)\(gone.stderr)")
        let none = try rttyctl(["acl", "check"] + control + [granted.name, "x"])
        #expect(none.stdout.contains("x: none (\(acl) cannot be read"), "\(none.stdout)")
    }

    /// A reload the daemon refuses: rttyctl waits for the outcome, names file and line and
    /// fails. Before: it printed "reload requested" and exited 0. SIGHUP keeps working.
    @Test func refusedReloadFailsWithFileAndLine() throws {
        let rig = try PtyConsoleRig()
        let control = ["--control", rig.env.socketDir + "/control"]
        let good = try String(contentsOfFile: rig.env.configPath, encoding: .utf8)
        try (good + "\n[console.broken]\nbaud = 115200\n").write(toFile: rig.env.configPath, atomically: true, encoding: .utf8)
        let line = good.split(separator: "\n", omittingEmptySubsequences: false).count + 1
        let refused = try Self.rttyctl(["reload"] + control)
        #expect(refused.status != 0, "\(refused.stdout)")
        #expect(refused.stderr.contains("\(rig.env.configPath):\(line)"), "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("reload refused"), "\(refused.stderr)")
        #expect(!refused.stdout.contains("reload requested"))
        // The running configuration is kept; a good one is then applied and said so.
        #expect(try ControlClient.ask(rig.env.socketDir + "/control", "status").contains("\"name\":\"pbx\""))
        // A unix console: no child process, which (until every descriptor is close-on-exec)
        // could inherit the control connection and hold it open.
        try (good + "\n[console.more]\nunix = \"\(rig.env.root)/vm.sock\"\n").write(toFile: rig.env.configPath, atomically: true, encoding: .utf8)
        let applied = try Self.rttyctl(["reload"] + control)
        #expect(applied.status == 0, "\(applied.stdout) \(applied.stderr)")
        #expect(applied.stdout.contains("configuration reloaded: 1 added, 0 removed, 0 changed"), "\(applied.stdout)")
        #expect(Files.isSocket(rig.env.socket("more")))
        // A variant: the config file gone altogether.
        try FileManager.default.removeItem(atPath: rig.env.configPath)
        let gone = try Self.rttyctl(["reload", "--json"] + control)
        #expect(gone.status != 0 && controlOutcome(gone.stdout)?.ok == false && gone.stdout.contains(rig.env.configPath), "\(gone.stdout)")
        // SIGHUP still reloads.
        try good.write(toFile: rig.env.configPath, atomically: true, encoding: .utf8)
        rig.daemon.signal(SIGHUP)
        try rig.daemon.waitForLog("1 removed")
    }
}
