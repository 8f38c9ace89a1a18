import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// `rttyctl send` and `rttyctl expect` run by a real local user against a real exec console
/// (a small getty + login in a raw pty that records every byte it receives) and a pty
/// pair: the login script from a shell, race-free, every byte audited as that user's.
@Suite struct ScriptTests {
    static let needsRoot = ProcessIdentity.isRoot || ProcessInfo.processInfo.environment["CI"] == "true"

    /// Prompts like a Linux console (bold login prompt, a title-setting OSC before the shell
    /// prompt), an empty line reprints the login prompt as getty does.
    static let loginProgram = #"""
        import os, sys, tty
        tty.setraw(0)
        record = open(sys.argv[1], 'ab', buffering=0)
        def getline():
            line = b''
            while not line.endswith(b'\r'):
                chunk = os.read(0, 1024)
                if not chunk:
                    sys.exit(0)
                record.write(chunk)
                line += chunk
            return line[:-1]
        while True:
            os.write(1, b'\r\nDebian GNU/Linux 12 lab1 ttyS0\r\n\r\n\x1b[1mlab1 login:\x1b[0m ')
            if getline():
                break
        os.write(1, b'\r\n\x1b]0;root@lab1\x07root@lab1:~# ')
        while True:
            line = getline()
            os.write(1, b'\r\n' + line + b'\r\nroot@lab1:~# ')
        """#

    struct Rig {
        let accounts = LocalAccounts()
        let env: TestEnvironment
        let guest: PtyGuest
        let daemon: DaemonProcess
        let user: (name: String, uid: UInt32)
        let reader: (name: String, uid: UInt32)
        var received: String { env.root + "/received" }

        init() throws {
            env = try TestEnvironment()
            guest = try PtyGuest()
            let group = try accounts.group("scr")
            user = try accounts.user("op", groups: [group])
            reader = try accounts.user("ro", groups: [group])
            try Self.writeLogin(env)
            try "\(user.name) lab1,pbx rw\n\(reader.name) lab1,pbx ro\n".write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
            try env.writeConfig(
                """
                [console.lab1]
                exec = ["/usr/bin/python3", "\(env.root)/login.py", "\(env.root)/received"]
                [console.pbx]
                device = "\(guest.devicePath)"
                """, group: group)
            daemon = try DaemonProcess(env)
            try daemon.waitForSockets(["lab1", "pbx"])
            try daemon.waitForLog("source open")
            try Self.waitForLogin(env)
        }

        static func writeLogin(_ env: TestEnvironment) throws {
            try ScriptTests.loginProgram.write(toFile: env.root + "/login.py", atomically: true, encoding: .utf8)
        }

        /// Until the login program has its pty in raw mode (it prints its prompt after):
        /// input before that is echoed and then flushed by the switch, as on a real tty.
        static func waitForLogin(_ env: TestEnvironment) throws {
            try waitUntil(timeout: 10, "the login prompt in lab1's log") { String(decoding: env.logContents("lab1"), as: UTF8.self).contains("login:") }
        }

        func rttyctl(as who: String, _ arguments: [String]) throws -> ProcessRun {
            try LocalAccounts.run(as: who, BuiltProducts.path("rttyctl"), [arguments[0], "--socket-dir", env.socketDir] + arguments.dropFirst())
        }

        var audit: [String] { env.auditLines }

        func receivedBytes() -> [UInt8] { Array((try? Data(contentsOf: URL(fileURLWithPath: received))) ?? Data()) }
    }

    @Test(.enabled(if: needsRoot)) func loginScriptFromAShellTypesExactlyItsBytesAsTheUser() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        // The login prompt was printed before anyone attached: Enter makes getty print it again.
        let login = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", "login: $", "--send", #"\r"#, "--timeout", "10"])
        #expect(login.status == 0, "stderr: \(login.stderr)")
        #expect(login.stdout == "login: \n")
        // The shell prompt comes after an OSC title sequence: matched with it taken out.
        let shell = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", #"root@lab1:~# $"#, "--send", #"root\r"#, "--timeout", "10"])
        #expect(shell.status == 0, "stderr: \(shell.stderr)")
        let sent = try rig.rttyctl(as: rig.user.name, ["send", "lab1", #"echo \x01\tend\r"#])
        #expect(sent.status == 0, "stderr: \(sent.stderr)")
        // A read-only user is refused, said, exit 2; then a mark from the writer: the device
        // got every byte of the script and the mark, and nothing of the reader's.
        let refused = try rig.rttyctl(as: rig.reader.name, ["send", "lab1", #"reboot\r"#])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("your session is read-only"), "\(refused.stderr)")
        let mark = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", "mark", "--send", #"mark\r"#, "--timeout", "10"])
        #expect(mark.status == 0, "stderr: \(mark.stderr)")
        #expect(rig.receivedBytes() == Array("\rroot\recho \u{01}\tend\rmark\r".utf8))
        // Every session is the user's own on record: four of the writer, one read-only of the reader.
        let starts = rig.audit.filter { $0.contains(#""event":"session-start""#) && $0.contains(#""console":"lab1""#) }
        #expect(starts.filter { $0.contains(#""uid":\#(rig.user.uid),"#) && $0.contains(#""rights":"rw""#) }.count == 4, "\(starts)")
        #expect(starts.filter { $0.contains(#""uid":\#(rig.reader.uid),"#) && $0.contains(#""rights":"ro""#) }.count == 1, "\(starts)")
        #expect(starts.count == 5)
    }

    @Test(.enabled(if: needsRoot)) func expectTimesOutWithOneAndFailsWithTwo() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let timedOut = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", "never printed", "--timeout", "0.5"])
        #expect(timedOut.status == 1, "stderr: \(timedOut.stderr)")
        #expect(timedOut.stderr.contains("no output matched never printed on console lab1 within 0.5 s"), "\(timedOut.stderr)")
        let badPattern = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", "(unclosed", "--timeout", "1"])
        #expect(badPattern.status == 2)
        #expect(badPattern.stderr.contains("is not a regular expression"), "\(badPattern.stderr)")
        let badEscape = try rig.rttyctl(as: rig.user.name, ["send", "lab1", #"root\q"#])
        #expect(badEscape.status == 2)
        #expect(badEscape.stderr.contains(#"unknown escape \q"#), "\(badEscape.stderr)")
        let missing = try rig.rttyctl(as: rig.user.name, ["send", "nosuch", "x"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("there is no console nosuch"), "\(missing.stderr)")
        // Nothing reached the device from any of them.
        let mark = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", "login: $", "--send", #"\r"#, "--timeout", "10"])
        #expect(mark.status == 0, "stderr: \(mark.stderr)")
        #expect(rig.receivedBytes() == [13])
    }

    /// On a pty pair: the device gets exactly the bytes sent, control characters and BREAK
    /// included, and expect --send sees the answer that the device gives only after it.
    @Test(.enabled(if: needsRoot)) func sendAndExpectOnAPtyPair() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let sent = try rig.rttyctl(as: rig.user.name, ["send", "pbx", #"ab\x03\e[A\0\r"#])
        #expect(sent.status == 0, "stderr: \(sent.stderr)")
        try rig.guest.waitFor("\r")
        #expect(rig.guest.received == [0x61, 0x62, 0x03, 0x1B, 0x5B, 0x41, 0x00, 0x0D])
        // The device answers only once it got the text: expect must have been watching.
        let password = try LiveProcess(
            LocalAccounts.setpriv,
            LocalAccounts.setprivArguments(rig.user.name) + [BuiltProducts.path("rttyctl"), "expect", "--socket-dir", rig.env.socketDir, "pbx", "Password: $", "--send", #"user\r"#, "--timeout", "10"])
        try rig.guest.waitFor("user\r")
        try rig.guest.write("\u{1B}[32mPassword:\u{1B}[0m ")
        #expect(try password.waitForExit() == 0)
        let breaking = try rig.rttyctl(as: rig.user.name, ["send", "pbx", "--break"])
        #expect(breaking.status == 0, "stderr: \(breaking.stderr)")
        try waitUntil(timeout: 5, "the BREAK record") { rig.audit.contains { $0.contains(#""event":"break""#) && $0.contains(#""uid":\#(rig.user.uid),"#) } }
    }
}
