import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// rtty-shell as sshd starts it, with a test PAM stack through pam_wrapper (pam_matrix
/// checks a password file), never touching /etc/pam.d.
@Suite struct ShellTests {
    static let pamWrapper = "/usr/lib/x86_64-linux-gnu/libpam_wrapper.so"
    static let pamMatrix = "/usr/lib/x86_64-linux-gnu/pam_wrapper/pam_matrix.so"
    static var havePAMWrapper: Bool {
        FileManager.default.fileExists(atPath: pamWrapper) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    struct ShellRig {
        let env: TestEnvironment
        let guests: [PtyGuest]
        let daemon: DaemonProcess
        let pamDir: String

        /// `pamServiceDir`: name the rig's PAM directory in the config (`pam_service_dir`).
        init(consoles: [String], pamServiceDir: Bool = false) throws {
            env = try TestEnvironment()
            let guests = try consoles.map { _ in try PtyGuest() }
            self.guests = guests
            let paths = pamServiceDir ? "pam_service_dir = \"\(env.root)/pam\"" : ""
            try env.writeConfig(zip(consoles, guests).map { "[console.\($0)]\ndevice = \"\($1.devicePath)\"\n" }.joined(separator: "\n"), paths: paths)
            daemon = try DaemonProcess(env)
            try daemon.waitForSockets(consoles)
            pamDir = env.root + "/pam"
            try FileManager.default.createDirectory(atPath: pamDir, withIntermediateDirectories: true)
            let user = Accounts.currentUserName()
            try "\(user):secret:rtty\n".write(toFile: pamDir + "/passdb", atomically: true, encoding: .utf8)
            try """
                auth     required \(ShellTests.pamMatrix) passdb=\(pamDir)/passdb
                account  required \(ShellTests.pamMatrix) passdb=\(pamDir)/passdb
                """.write(toFile: pamDir + "/rtty", atomically: true, encoding: .utf8)
        }

        /// Runs rtty-shell as sshd would for `ssh host COMMAND` (no pty), input on a pipe.
        func shell(_ arguments: [String], input: String, extraEnvironment: [String: String] = [:]) throws -> ProcessRun {
            var environment = [
                "PATH": "/usr/bin:/bin", "USER": Accounts.currentUserName(), "RTTY_CONFIG": env.configPath,
                "SSH_CONNECTION": "192.0.2.7 51234 127.0.0.1 22",
                "LD_PRELOAD": ShellTests.pamWrapper, "PAM_WRAPPER": "1", "PAM_WRAPPER_SERVICE_DIR": pamDir,
            ]
            environment.merge(extraEnvironment) { $1 }
            // argv[0] is what sshd sets; Process always passes the path, so the rest is what counts.
            return try ProcessRun.run(BuiltProducts.path("rtty-shell"), Array(arguments.dropFirst()), input: input, environment: environment)
        }

        var audit: String { (try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? "" }
    }

    @Test(arguments: [
        "/usr/lib/openssh/sftp-server", "internal-sftp", "scp -t /tmp", "rsync --server -e.Lsfx . /tmp", "/bin/sh", "ls -la", "sh -c id",
    ])
    func refusesWhatIsNotAConsole(command: String) throws {
        let rig = try ShellRig(consoles: ["pbx"])
        let run = try rig.shell(["rtty-shell", "-c", command], input: "")
        #expect(run.status == 1)
        #expect(run.stderr.contains("only reaches consoles"), "\(run.stderr)")
    }

    @Test(.enabled(if: havePAMWrapper)) func rightPasswordLandsInTheNamedConsoleAndAuditsTheSshClient() throws {
        let rig = try ShellRig(consoles: ["pbx", "util"])
        try rig.guests[1].write("util says hello\r\n")
        let run = try rig.shell(["rtty-shell", "-c", "util"], input: "secret\nshow version\r")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("util says hello"), "stdout: \(run.stdout) stderr: \(run.stderr)")
        try rig.guests[1].waitFor("show version\r")
        try waitUntil(timeout: 5, "a session-end record") { rig.audit.contains(#""event":"session-end""#) }
        // What rtty-shell passed on from sshd is kept as a claim, in the session-info record.
        #expect(rig.audit.contains(#""event":"session-info""#) && rig.audit.contains(#""claimed_from":"192.0.2.7 51234""#), "\(rig.audit)")
        #expect(!rig.audit.contains(#""from":"#), "\(rig.audit)")
        #expect(rig.audit.contains(#""command":"util""#) == false)  // -c, not ForceCommand: no SSH_ORIGINAL_COMMAND
    }

    @Test(.enabled(if: havePAMWrapper)) func wrongPasswordIsRefusedWithPAMsMessage() throws {
        let rig = try ShellRig(consoles: ["pbx"])
        let run = try rig.shell(["rtty-shell", "-c", "pbx"], input: "wrong\n")
        #expect(run.status == 3, "\(run.stderr)")  // access denied (rtty-shell(8) EXIT STATUS)
        #expect(run.stderr.contains("login refused"), "\(run.stderr)")
        #expect(try !rig.guests[0].received("wrong", beforeMarkerTypedOn: rig.env.socket("pbx")))
    }

    @Test(.enabled(if: havePAMWrapper)) func accountNotAllowedForTheServiceIsRefusedAndAudited() throws {
        let rig = try ShellRig(consoles: ["pbx"])
        // The user exists for another PAM service only: pam_matrix refuses it for "rtty".
        try "\(Accounts.currentUserName()):secret:other\n".write(toFile: rig.pamDir + "/passdb", atomically: true, encoding: .utf8)
        let run = try rig.shell(["rtty-shell", "-c", "pbx"], input: "secret\nhello\n")
        #expect(run.status == 3, "\(run.stderr)")  // access denied (rtty-shell(8) EXIT STATUS)
        #expect(run.stderr.contains("login refused"), "\(run.stderr)")
        #expect(try !rig.guests[0].received("hello", beforeMarkerTypedOn: rig.env.socket("pbx")))
        try waitUntil(timeout: 5, "a login-failed record:\n\(rig.audit)") { rig.audit.contains(#""event":"login-failed""#) }
    }

    /// Not set-id, rtty-shell has nothing its caller lacks: RTTY_CONFIG (every test here)
    /// and pam_service_dir (here, with the real libpam and no pam_wrapper) are honoured.
    @Test(.enabled(if: havePAMWrapper)) func unprivilegedShellHonoursPamServiceDir() throws {
        let rig = try ShellRig(consoles: ["pbx"], pamServiceDir: true)
        try rig.guests[0].write("pbx here")
        let run = try rig.shell(["rtty-shell", "-c", "pbx"], input: "secret\n", extraEnvironment: ["LD_PRELOAD": "", "PAM_WRAPPER": "0"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("pbx here"), "stdout: \(run.stdout) stderr: \(run.stderr)")
    }

    @Test(.enabled(if: havePAMWrapper)) func conversationThatCannotAnswerIsRefused() throws {
        let rig = try ShellRig(consoles: ["pbx"])
        let run = try rig.shell(["rtty-shell", "-c", "pbx"], input: "")  // no password will ever come
        #expect(run.status == 3, "\(run.stderr)")  // access denied (rtty-shell(8) EXIT STATUS)
        #expect(run.stderr.contains("login refused"), "\(run.stderr)")
    }

    @Test(.enabled(if: havePAMWrapper)) func severalConsolesGetAMenuThatAsksAgain() throws {
        let rig = try ShellRig(consoles: ["pbx", "util"])
        try rig.guests[1].write("this is util")
        let run = try rig.shell(["-rtty-shell"], input: "secret\n7\nutil\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("1) pbx"))
        #expect(run.stdout.contains("2) util"))
        #expect(run.stdout.contains("\"7\" is not in the list"))
        #expect(run.stdout.contains("this is util"))
    }

    /// The daemon is down: rtty-shell names itself (it said `rtty:`), the console and the
    /// socket, and tells the ssh user what they can do; status 1.
    @Test(.enabled(if: havePAMWrapper)) func unreachableConsoleIsExplainedByRttyShell() throws {
        let rig = try ShellRig(consoles: ["pbx"])
        try rig.daemon.stop()
        let run = try rig.shell(["rtty-shell", "-c", "pbx"], input: "secret\n")
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("rtty-shell: cannot open console pbx (\(rig.env.socket("pbx"))): rttyd is not serving it"), "\(run.stderr)")
        #expect(run.stderr.contains("tell an admin"), "\(run.stderr)")
        #expect(!run.stderr.contains("rtty: "), "\(run.stderr)")
    }

    @Test(.enabled(if: havePAMWrapper)) func forceCommandOriginalCommandPicksTheConsole() throws {
        let rig = try ShellRig(consoles: ["pbx", "util"])
        try rig.guests[0].write("pbx here")
        let run = try rig.shell(["rtty-shell", "-c", "rtty-shell"], input: "secret\n", extraEnvironment: ["SSH_ORIGINAL_COMMAND": "pbx"])
        #expect(run.stdout.contains("pbx here"), "\(run.stderr)")
    }
}

@Suite struct ShellRequestTests {
    @Test func parsesWhatSshdPasses() {
        #expect(ShellRequest.parse(arguments: ["-rtty-shell"], originalCommand: nil) == .console(nil, readOnly: false))
        #expect(ShellRequest.parse(arguments: ["rtty-shell", "-c", "pbx"], originalCommand: nil) == .console("pbx", readOnly: false))
        #expect(ShellRequest.parse(arguments: ["rtty-shell", "-c", "-r pbx"], originalCommand: nil) == .console("pbx", readOnly: true))
        #expect(ShellRequest.parse(arguments: ["rtty-shell", "-c", "x"], originalCommand: "util") == .console("util", readOnly: false))
        #expect(ShellRequest.parse(arguments: ["rtty-shell", "-c", "rtty-shell"], originalCommand: nil) == .console(nil, readOnly: false))
        #expect(ShellRequest.parse(arguments: ["rtty-shell", "-c", "/usr/sbin/rtty-shell"], originalCommand: "") == .console(nil, readOnly: false))
        if case .refused = ShellRequest.parse(arguments: ["rtty-shell", "--help"], originalCommand: nil) {} else { Issue.record("odd arguments accepted") }
    }

    /// A refusal names the word as it was given: `--socket-dir=/tmp/x` was told "x is not
    /// available here".
    @Test func refusalNamesTheWordAsGiven() {
        let option = ShellRequest.parse(arguments: ["rtty-shell", "-c", "--socket-dir=/tmp/x pbx"], originalCommand: nil)
        #expect(option == .refused("rtty-shell: the option --socket-dir=/tmp/x is not available here: over ssh only a console name (and -r) can be given. Use `ssh -t HOST CONSOLE`, `ssh -t -- HOST -r CONSOLE` (read-only) or just `ssh HOST`."))
        guard case .refused(let program) = ShellRequest.parse(arguments: ["rtty-shell", "-c", "/bin/sh"], originalCommand: nil) else {
            Issue.record("/bin/sh accepted")
            return
        }
        #expect(program.hasPrefix("rtty-shell: /bin/sh is not available here: this account only reaches consoles."), "\(program)")
        guard case .refused(let extra) = ShellRequest.parse(arguments: ["rtty-shell", "-c", "pbx --socket-dir=/tmp/x"], originalCommand: nil) else {
            Issue.record("extra words accepted")
            return
        }
        #expect(extra.hasPrefix("rtty-shell: pbx --socket-dir=/tmp/x is more than a console name"), "\(extra)")
    }

    @Test func consoleChoice() {
        #expect(ConsoleChoice.decide(requested: nil, allowed: ["pbx"], user: "u") == .attach("pbx"))
        #expect(ConsoleChoice.decide(requested: nil, allowed: ["a", "b"], user: "u") == .menu(["a", "b"]))
        if case .refuse = ConsoleChoice.decide(requested: "c", allowed: ["a", "b"], user: "u") {} else { Issue.record("ungranted console chosen") }
        if case .refuse = ConsoleChoice.decide(requested: nil, allowed: [], user: "u") {} else { Issue.record("no consoles but no refusal") }
        #expect(ConsoleChoice.pick(" 2\r", from: ["a", "b"]) == "b")
        #expect(ConsoleChoice.pick("b", from: ["a", "b"]) == "b")
        #expect(ConsoleChoice.pick("3", from: ["a", "b"]) == nil)
        #expect(ConsoleChoice.pick("0", from: ["a", "b"]) == nil)
    }
}
