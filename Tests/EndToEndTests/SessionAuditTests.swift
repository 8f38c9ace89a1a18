import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// Attacks on what the daemon records and shows about a session (issue 12, items 3-5):
/// forged metadata with escape sequences, a client that never says who it is, console
/// listings counted as sessions, one user filling a console.
@Suite struct SessionAuditTests {
    static func audit(_ env: TestEnvironment) -> String {
        (try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? ""
    }

    static func records(_ env: TestEnvironment, _ event: String) -> [String] {
        audit(env).split(separator: "\n").map(String.init).filter { $0.contains("\"event\":\"\(event)\"") }
    }

    /// What may reach an admin's terminal: printable text, newlines and tabs. ESC, other C0
    /// and C1 controls, DEL and undecodable bytes (U+FFFD after decoding) may not.
    static func terminalSafe(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { s in
            s == "\n" || s == "\t" || ((0x20..<0x7F).contains(s.value) || (s.value >= 0xA0 && s.value != 0xFFFD))
        }
    }

    static let hostile: [UInt8] =
        Array("SSH_CONNECTION=1.2.3.4\u{1B}]0;owned\u{07}\u{1B}[2J 22 evil\u{1B}[31m 22\nSSH_TTY=/dev/pts/1\u{1B}]0;owned\u{07}\nTERM=xterm\u{1B}[2J\u{1B}[H\nCOMMAND=pbx\u{9B}31m".utf8)
        + [0xC2, 0x9B, 0x33, 0x31, 0x6D, 0xFF, 0xFE, 0x0A] + Array("X\u{1B}[6n=1".utf8)

    @Test func forgedMetadataReachesNoTerminalRawAndIsRecordedAsAClaim() throws {
        let rig = try PtyConsoleRig()
        let control = ["--control", rig.env.socketDir + "/control"]
        let client = try ProtocolClient(socket: rig.env.socket("pbx"))
        try client.waitForNotice(containing: "authorized")
        try client.send(.withPayload(.metadata, Self.hostile))
        try client.send(.withPayload(.whosOn, Array("me@pts/1\u{1B}]0;title\u{07}\n\u{1B}[2J".utf8)))
        try client.waitForNotice(containing: " connected")
        try client.type("typed\r")
        try rig.guest.waitFor("typed\r")
        for command in [["who"], ["status"], ["sessions"]] {
            let run = try ControlTests.rttyctl(command + control)
            #expect(run.status == 0, "\(command): \(run.stderr)")
            #expect(Self.terminalSafe(run.stdout), "rttyctl \(command[0]) printed control bytes: \(run.stdout.debugDescription)")
            #expect(Self.terminalSafe(run.stderr), "\(run.stderr.debugDescription)")
        }
        // A well-formed claim (see below) is shown as one; this one is no address at all.
        let who = try ControlTests.rttyctl(["who"] + control)
        #expect(who.stdout.contains("  local  "), "\(who.stdout)")
        #expect(!who.stdout.contains("1.2.3.4"), "\(who.stdout)")
        // The audit file is JSON (so already inert), but nothing in it claims a verified origin.
        #expect(!Self.audit(rig.env).contains("\"from\":"), "\(Self.audit(rig.env))")
        let info = try #require(Self.records(rig.env, "session-info").first)
        #expect(!info.contains("claimed_from"), "\(info)")
        #expect(info.contains(#"SSH_CONNECTION \"1.2.3.4\\x1b]0;owned\\x07\\x1b[2J 22 evil\\x1b[31m 22\" ignored"#), "\(info)")
        #expect(info.contains(#""term":"xterm\\x1b[2J\\x1b[H""#), "\(info)")
        #expect(client.frames.contains { $0.kind == .notice && $0.text.contains("SSH_CONNECTION") && $0.text.contains("ignored") })

        // A syntactically valid SSH_CONNECTION is shown and kept as what it is: a claim.
        let second = try ProtocolClient(socket: rig.env.socket("pbx"))
        try second.send(.withText(.metadata, "SSH_CONNECTION=2001:db8::7 51234 10.0.0.1 22\nSSH_TTY=/dev/pts/4"))
        try second.identify("ops@pts/4")
        try waitUntil(timeout: 5, "a second session-info") { Self.records(rig.env, "session-info").count == 2 }
        #expect(Self.records(rig.env, "session-info")[1].contains(#""claimed_from":"2001:db8::7 51234""#))
        let again = try ControlTests.rttyctl(["who"] + control)
        #expect(again.stdout.contains("claims 2001:db8::7 51234"), "\(again.stdout)")
        let sessions = try ControlTests.rttyctl(["sessions"] + control)
        #expect(sessions.stdout.contains("2001:db8::7 51234 (claimed)"), "\(sessions.stdout)")
    }

    /// Variant: metadata sent again and again, to rewrite what was claimed or flood the
    /// audit log; a WHOSON with a newline, to forge a line of `rttyctl who`.
    @Test func metadataIsTakenOnceAndWhoCannotBeForgedWithANewline() throws {
        let rig = try PtyConsoleRig()
        let control = ["--control", rig.env.socketDir + "/control"]
        let client = try ProtocolClient(socket: rig.env.socket("pbx"))
        try client.send(.withText(.metadata, "SSH_CONNECTION=192.0.2.1 40000 10.0.0.1 22"))
        for port in 1...5000 {
            try client.send(.withText(.metadata, "SSH_CONNECTION=198.51.100.\(port % 250) \(port) 10.0.0.1 22"))
        }
        try client.identify("me@pts/1\npbx  fake-session  root@console  uid 0  rw  local  idle 0s")
        try client.waitForNotice(containing: " connected")
        try client.type("marker\r")
        try rig.guest.waitFor("marker\r")
        #expect(Self.records(rig.env, "session-info").count == 1, "\(Self.records(rig.env, "session-info").count) session-info records")
        #expect(Self.records(rig.env, "session-info").first?.contains(#""claimed_from":"192.0.2.1 40000""#) == true)
        let who = try ControlTests.rttyctl(["who"] + control)
        #expect(who.stdout.split(separator: "\n").count == 1, "\(who.stdout)")
        #expect(who.stdout.contains("claims 192.0.2.1 40000"), "\(who.stdout)")
        let refusal = try #require(client.frames.first { $0.kind == .notice && $0.text.contains("already") })
        #expect(refusal.text.contains("metadata"))
        #expect(rig.daemon.process.isRunning)
    }

    /// rtty-shell's report socket carries SSH_CONNECTION, the command and a message from
    /// the shell user's side: a forged report puts no control byte in the daemon's log and
    /// no unverified address in `from`.
    @Test func forgedShellReportIsRecordedAsAClaimAndLoggedEscaped() throws {
        let rig = try PtyConsoleRig()
        let report = rig.env.socketDir + "/.report"
        try waitUntil(timeout: 10, "the report socket") { Files.isSocket(report) }
        let fd = try UnixSocket.connect(path: report)
        defer { try? fd.close() }
        let line = "refused\t1.2.3.4\u{1B}]0;owned\u{07} 22 5.6.7.8 22\tsftp\u{1B}[2J\tnot a console\u{1B}[31m\u{9B}1m\n"
        _ = try Array(line.utf8).withUnsafeBytes { try fd.writeAll($0) }
        try waitUntil(timeout: 5, "the refused record") { !Self.records(rig.env, "refused").isEmpty }
        let record = try #require(Self.records(rig.env, "refused").first)
        #expect(!record.contains("\"from\":") && !record.contains("claimed_from"), "\(record)")
        #expect(record.contains(#""command":"sftp\\x1b[2J""#), "\(record)")
        try rig.daemon.waitForLog("rtty-shell: refused")
        #expect(Self.terminalSafe(rig.daemon.stderr), "\(rig.daemon.stderr.suffix(300).debugDescription)")
    }

    /// A raw socket client (no HELLO, no WHOSON, nothing but DATA) types: its session is on
    /// record before the device has its first byte, survives SIGKILL of rttyd, and its
    /// input is in its session's recording, byte for byte.
    @Test func neverIdentifiedTypistIsOnRecordBeforeItsInputReachesTheDevice() throws {
        let rig = try PtyConsoleRig()
        let env = rig.env, guest = rig.guest
        let client = try ProtocolClient(socket: env.socket("pbx"))
        try client.type("rm -rf /important\r")
        try guest.waitFor("rm -rf /important\r")
        let starts = Self.records(env, "session-start")
        #expect(starts.count == 1, "the device had the input, the audit log: \(Self.audit(env))")
        let start = try #require(starts.first)
        #expect(start.contains(#""uid":\#(getuid())"#), "\(start)")
        let session = try #require(auditRecord(start)?.session)
        let file = env.logDir + "/sessions/\(session).session"
        try waitUntil(timeout: 5, "the input in the session's recording") {
            (try? Data(contentsOf: URL(fileURLWithPath: file)))?.range(of: Data("rm -rf /important\r".utf8)) != nil
        }

        rig.daemon.signal(SIGKILL)
        try waitUntil(timeout: 5, "rttyd to die") { !rig.daemon.process.isRunning }
        try client.waitForClose()
        #expect(Self.records(env, "session-start").count == 1)
        let second = try DaemonProcess(env)
        try second.waitForLog("recorded as ended abnormally")
        #expect(Self.records(env, "session-end").contains { $0.contains(session) && $0.contains("ended abnormally") })
    }

    /// `rtty` with no argument probes every console; no probe is a session.
    @Test func listingConsolesWritesNoSessionRecords() throws {
        let env = try TestEnvironment()
        let names = (1...30).map { "c\($0)" }
        try env.writeConfig(names.map { "[console.\($0)]\nexec = [\"/bin/cat\"]\n" }.joined())
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(names)
        try waitUntil(timeout: 10, "every console up") { daemon.stderr.components(separatedBy: "source open").count > names.count }
        let list = try ClientTests.rtty(["--socket-dir", env.socketDir], input: "")
        #expect(list.status == 0, "\(list.stderr)")
        #expect(names.allSatisfy { list.stdout.contains($0) }, "\(list.stdout)")
        // A marker session after the listing: once its start is on record, any probe's would be.
        let marker = try ProtocolClient(socket: env.socket("c1"))
        try marker.type("x")
        try waitUntil(timeout: 5, "the marker session's start") { !Self.records(env, "session-start").isEmpty }
        #expect(Self.records(env, "session-start").count == 1, "\(Self.audit(env))")
        #expect(Self.records(env, "session-end").isEmpty, "\(Self.audit(env))")
    }

    /// One connection held open by a real other user (socat under setpriv); what the daemon
    /// said to it lands in a file.
    final class HeldConnection {
        let process = Process()
        let output: String

        init(uid: UInt32, socket: String, output: String) throws {
            self.output = output
            FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(uid)", "--regid=65534", "--clear-groups", Socat.executable ?? "socat", "-u", "UNIX-CONNECT:\(socket)", "-"]
            process.standardInput = FileHandle.nullDevice
            let file = FileHandle(forWritingAtPath: output)
            process.standardOutput = file
            process.standardError = FileHandle.nullDevice
            try process.start()
            try? file?.close()  // socat has its own copy
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.reap()
        }

        var said: String { (try? String(contentsOfFile: output, encoding: .isoLatin1)) ?? "" }

        /// "authorized" or the refusal, whichever came.
        func answer() throws -> String {
            try waitUntil(timeout: 10, "an answer in \(output)") { said.contains("authorized") || said.contains("try later") }
            return said.contains("authorized") ? "authorized" : said
        }
    }

    @Test(.enabled(if: AccessTests.needsRoot)) func oneUserFillingTheConsoleLocksOutNeitherAnotherUserNorRoot() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        try #require(Socat.executable != nil, "socat is needed (apt-get install socat)")
        let env = try TestEnvironment()
        let guest = try PtyGuest()
        try "nobody pbx rw\ndaemon pbx rw\n".write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
        try env.writeConfig("[console.pbx]\ndevice = \"\(guest.devicePath)\"\nmax_clients = 10\ngroup = \"\(Accounts.groupName(65534) ?? "nogroup")\"\n")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        // nobody opens max_clients connections, one after another.
        var held: [HeldConnection] = []
        for n in 0..<10 {
            held.append(try HeldConnection(uid: 65534, socket: env.socket("pbx"), output: env.root + "/nobody-\(n)"))
            _ = try held[n].answer()
        }
        let admitted = try held.filter { try $0.answer() == "authorized" }.count
        #expect(admitted == 8, "nobody got \(admitted) of max_clients 10; max_clients_per_user is 8 by default")
        #expect(try held.last?.answer().contains("max_clients_per_user 8") == true)
        // Another user still gets in, and fills the console.
        let other = try HeldConnection(uid: 1, socket: env.socket("pbx"), output: env.root + "/daemon-0")
        #expect(try other.answer() == "authorized", "\(other.said)")
        let last = try HeldConnection(uid: 1, socket: env.socket("pbx"), output: env.root + "/daemon-1")
        #expect(try last.answer() == "authorized", "\(last.said)")
        let refused = try HeldConnection(uid: 1, socket: env.socket("pbx"), output: env.root + "/daemon-2")
        #expect(try refused.answer().contains("console full: max_clients 10"), "\(refused.said)")
        // Root, on a full console, gets one of the slots kept for it and the admin group.
        let root = try ProtocolClient(socket: env.socket("pbx"))
        try root.waitForNotice(containing: "authorized")
        try waitUntil(timeout: 5, "refusals audited") {
            Self.records(env, "denied").contains { $0.contains("max_clients_per_user 8") && $0.contains(#""uid":65534"#) }
        }
    }
}
