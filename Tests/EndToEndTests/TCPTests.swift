import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// A console's TCP port, driven by clients nobody here wrote: socat (raw), pyserial's
/// rfc2217:// handler (telnet + RFC 2217) and the telnet client.
@Suite struct TCPTests {
    static var havePySerial: Bool {
        (try? ProcessRun.run("/usr/bin/env", ["python3", "-c", "import serial.rfc2217"], input: ""))?.status == 0
            || ProcessInfo.processInfo.environment["CI"] == "true"
    }
    static var haveTelnet: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/telnet") || ProcessInfo.processInfo.environment["CI"] == "true" }

    struct Rig {
        let env: TestEnvironment
        let guest: PtyGuest
        let daemon: DaemonProcess
        let port: Int

        init(_ tcpKeys: String, host: String = "127.0.0.1") throws {
            env = try TestEnvironment()
            guest = try PtyGuest()
            port = try SSHRig.freePort()
            try env.writeConfig("[console.pbx]\ndevice = \"\(guest.devicePath)\"\ntcp = \"\(host):\(port)\"\n\(tcpKeys)\n")
            daemon = try DaemonProcess(env)
            try daemon.waitForLog("TCP ")
            try daemon.waitForLog("source open")
        }

        var audit: String { (try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? "" }

        /// A raw (socat) or telnet client of the port, attached.
        func streamWatcher(mode: String) throws -> LiveProcess {
            let watcher = mode == "raw"
                ? try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(port)"])
                : try LiveProcess("/usr/bin/telnet", ["127.0.0.1", String(port)])
            try daemon.waitForLog("attached: tcp@")
            return watcher
        }
    }

    @Test func rawModeCarriesBytesBothWaysAndNothingElse() throws {
        let rig = try Rig("tcp_mode = \"raw\"")
        try rig.guest.write("before\r\n")
        let watcher = try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(rig.port)"])
        try watcher.waitForOutput("before")  // the replay
        try rig.guest.write("live \u{FF} bytes\r\n")
        try watcher.waitForOutput("live")
        watcher.write("typed\r")
        try rig.guest.waitFor("typed\r")
        #expect(!watcher.stdout.contains("authorized") && !watcher.stdout.contains("connected"), "raw mode sent more than console bytes: \(watcher.stdout)")
        let status = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["who", "--control", rig.env.socketDir + "/control"], input: "")
        #expect(status.stdout.contains("tcp@127.0.0.1:"), "\(status.stdout)")
        watcher.closeInput()
        try waitUntil(timeout: 5, "the session-end record:\n\(rig.audit)") { rig.audit.contains(#""event":"session-end""#) }
        let start = rig.audit.split(separator: "\n").compactMap(auditRecord).first { $0.event == "session-start" }
        #expect(start?.user == "tcp" && start?.from?.hasPrefix("127.0.0.1 ") == true, "\(rig.audit)")
    }

    /// Every event that is told to Unix-socket clients as a notice (a client attaching
    /// and leaving, a line-settings change, a BREAK) happens while a raw and a telnet
    /// client watch: between two marks from the guest they get not one byte more.
    @Test(.enabled(if: haveTelnet), arguments: ["raw", "telnet"])
    func noticesNeverReachTCPStreams(mode: String) throws {
        let rig = try Rig("tcp_mode = \"\(mode)\"")
        let watcher = try rig.streamWatcher(mode: mode)
        try rig.guest.write("mark-one\r\n")
        try watcher.waitForOutput("mark-one\r\n")
        let observer = try ProtocolClient(socket: rig.env.socket("pbx"))
        try observer.waitForNotice(containing: "authorized")
        try observer.identify("observer@pts/7")
        try observer.waitForNotice(containing: "@pts/7 connected")
        let visitor = try ProtocolClient(socket: rig.env.socket("pbx"))
        try visitor.identify("visitor@pts/8")
        try observer.waitForNotice(containing: "@pts/8 connected")
        visitor.disconnect()
        try observer.waitForNotice(containing: "@pts/8 disconnected")
        let control = ["--control", rig.env.socketDir + "/control"]
        _ = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["set"] + control + ["pbx", "baud=57600"], input: "")
        try observer.waitForNotice(containing: "line settings now 57600")
        #expect(try ProcessRun.run(BuiltProducts.path("rttyctl"), ["break"] + control + ["pbx"], input: "").status == 0)
        try observer.waitForNotice(containing: "BREAK sent by")
        try rig.guest.write("mark-two\r\n")
        try watcher.waitForOutput("mark-two\r\n")
        let stream = watcher.stdout
        let between = stream[stream.range(of: "mark-one")!.upperBound..<stream.range(of: "mark-two")!.lowerBound]
        #expect(between == "\r\n", "the \(mode) stream got \(between.utf8.count - 2) bytes more between the marks: \(between.debugDescription)")
    }

    /// TCP has no user: one address counts as one, so a single host cannot fill the console.
    @Test func oneAddressGetsNoMoreThanMaxClientsPerUser() throws {
        let rig = try Rig("max_clients_per_user = 2")
        let first = try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(rig.port)"])
        let second = try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(rig.port)"])
        try waitUntil(timeout: 5, "two TCP sessions") { rig.audit.components(separatedBy: #""event":"session-start""#).count == 3 }
        let third = try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(rig.port)"])
        try waitUntil(timeout: 5, "the third refused:\n\(rig.audit)") { rig.audit.contains("too many sessions: max_clients_per_user 2") }
        try rig.guest.write("to both\r\n")
        try first.waitForOutput("to both")
        try second.waitForOutput("to both")
        #expect(!third.stdout.contains("to both"))
        // A Unix-socket user is another user.
        let local = try ProtocolClient(socket: rig.env.socket("pbx"))
        try local.waitForNotice(containing: "authorized")
    }

    @Test func readOnlyTCPCannotType() throws {
        let rig = try Rig("tcp_rights = \"ro\"")
        let watcher = try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(rig.port)"])
        try rig.daemon.waitForLog("attached: tcp@")
        watcher.write("typed\r")
        try rig.guest.write("still here\r\n")
        try watcher.waitForOutput("still here")
        #expect(try !rig.guest.received("typed", beforeMarkerTypedOn: rig.env.socket("pbx")))
    }

    /// The payloads of the COM-PORT-OPTION answers to `requests`, sent in one write on a new
    /// connection, in order (the signature answer that closes them, and modem-state reports,
    /// left out).
    static func comPortAnswers(_ rig: Rig, _ requests: [[UInt8]]) throws -> [[UInt8]] {
        let client = try TCPClient(port: rig.port)
        let wire = (requests + [[ComPort.Code.signature]]).flatMap { Telnet.subnegotiation(option: Telnet.Option.comPort, $0) }
        try client.write(wire)
        let answered = client.pump(timeout: 10) { $0.received.contains(subsequence: TCPReloadTests.signatureAnswer) }
        #expect(answered, "no signature answer; got \(client.received)")
        var parser = Telnet.Parser()
        return try parser.feed(client.received).compactMap { event in
            guard case .subnegotiation(Telnet.Option.comPort, let payload) = event,
                  let code = payload.first, code != 100, code != 107 else { return nil }
            return payload
        }
    }

    /// RFC 2217: the server answers with the value in effect. A read-only session's changes
    /// are refused, so each answer is what the line kept, never what was asked; the pty's
    /// settings are untouched. (A pty has no DTR or RTS: it reports both on, as a query does.)
    @Test func readOnlyRfc2217RequestsAreAnsweredWithTheLineAsItIs() throws {
        let rig = try Rig("tcp_mode = \"telnet\"\ntcp_rights = \"ro\"")
        let before = try Termios.currentSettings(rig.guest.pair.slave)
        typealias C = ComPort.Control
        let set = ComPort.Code.setControl
        let answers = try Self.comPortAnswers(rig, [
            [ComPort.Code.setBaud] + ComPort.baudBytes(before.baud == 115_200 ? 19_200 : 115_200),
            [ComPort.Code.setDataSize, before.dataBits == 7 ? 8 : 7],
            [ComPort.Code.setParity, before.parity == .even ? 2 : 3],
            [ComPort.Code.setStopSize, before.stopBits == 2 ? 1 : 2],
            [set, before.flow == .xonxoff ? C.noFlow : C.xonXoff],
            [set, C.breakOn], [set, C.dtrOff], [set, C.rtsOff], [set, C.queryBreak],
        ])
        let flow = before.flow == .none ? C.noFlow : before.flow == .xonxoff ? C.xonXoff : C.hardware
        let expected: [[UInt8]] = [
            [101] + ComPort.baudBytes(before.baud), [102, UInt8(before.dataBits)],
            [103, ComPort.parityValue(before.parity)], [104, UInt8(before.stopBits)],
            [105, flow], [105, C.breakOff], [105, C.dtrOn], [105, C.rtsOn], [105, C.breakOff],
        ]
        #expect(answers == expected, "answers \(answers), the line has \(expected)")
        #expect(try Termios.currentSettings(rig.guest.pair.slave) == before)
        #expect(!rig.audit.contains(#""event":"break""#) && !rig.audit.contains(#""event":"settings""#), "\(rig.audit)")
    }

    /// The line carries one BREAK at a time: a second BREAK-ON while the first is on the
    /// line is dropped, and its answer says BREAK-OFF (none of its own was sent).
    @Test func aBreakDroppedWhileOneIsOnTheLineIsAnsweredBreakOff() throws {
        let rig = try Rig("tcp_mode = \"telnet\"")
        typealias C = ComPort.Control
        let set = ComPort.Code.setControl
        let answers = try Self.comPortAnswers(rig, [[set, C.breakOn], [set, C.breakOn], [set, C.breakOff], [set, C.dtrOff]])
        // The pty has no DTR line: the change is answered as asked (nothing contradicts it).
        #expect(answers == [[105, C.breakOn], [105, C.breakOff], [105, C.breakOff], [105, C.dtrOff]], "\(answers)")
        try waitUntil(timeout: 5, "a break record with one sent, one dropped:\n\(rig.audit)") {
            FloodTests.accounted(rig, event: "break", fields: ["sent", "dropped"]) == 2
        }
    }

    /// pyserial checks each answer against what it asked: on a read-only session, opening
    /// at the line's own settings works, and dropping DTR or sending a BREAK fails with
    /// pyserial's "remote rejected value" instead of passing as done.
    @Test(.enabled(if: havePySerial)) func pyserialOnAReadOnlySessionIsToldItsChangesWereRefused() throws {
        let rig = try Rig("tcp_mode = \"telnet\"\ntcp_rights = \"ro\"")
        let baud = try Termios.currentSettings(rig.guest.pair.slave).baud
        let script = """
            import serial
            port = serial.serial_for_url("rfc2217://127.0.0.1:\(rig.port)", baudrate=\(baud), timeout=5)
            print("OPEN", flush=True)
            for name, change in [("DTR", lambda: setattr(port, "dtr", False)), ("BREAK", lambda: port.send_break(0.3)),
                                 ("BAUD", lambda: setattr(port, "baudrate", \(baud == 19_200 ? 38_400 : 19_200)))]:
                try:
                    change()
                    print(name, "accepted", flush=True)
                except (ValueError, serial.SerialException) as error:
                    print(name, "refused:", error, flush=True)
            print("DONE", flush=True)
            """
        let client = try LiveProcess("/usr/bin/env", ["python3", "-c", script])
        try client.waitForOutput("DONE", timeout: 20)
        for name in ["DTR", "BREAK", "BAUD"] {
            #expect(client.stdout.contains("\(name) refused: remote rejected value"), "\(client.stdout)")
        }
        #expect(try Termios.currentSettings(rig.guest.pair.slave).baud == baud)
    }

    @Test func remoteBindNeedsTheExplicitOptionAndTcpAllowIsEnforced() throws {
        let env = try TestEnvironment()
        try env.writeConfig("[console.pbx]\ndevice = \"/dev/null\"\ntcp = \"0.0.0.0:7001\"\n")
        let check = try ProcessRun.run(BuiltProducts.path("rttyd"), ["--check-config", "--config", env.configPath], input: "")
        #expect(check.status != 0)
        #expect(check.stderr.contains("tcp_allow_remote = true"), "\(check.stderr)")

        let rig = try Rig("tcp_allow_remote = true\ntcp_allow = [\"192.0.2.0/24\"]", host: "0.0.0.0")
        #expect(rig.daemon.stderr.contains("NO authentication"))
        try rig.guest.write("secret output\r\n")
        let outsider = try ProcessRun.run("/usr/bin/socat", ["-t", "1", "-", "TCP:127.0.0.1:\(rig.port)"], input: "")
        #expect(!outsider.stdout.contains("secret"), "a client outside tcp_allow got output")
        try waitUntil(timeout: 5, "a denied record:\n\(rig.audit)") { rig.audit.contains("is not in tcp_allow") }
    }

    @Test(.enabled(if: havePySerial)) func pyserialRfc2217OpensSetsBaudAndParitySendsBreakAndMovesData() throws {
        let rig = try Rig("tcp_mode = \"telnet\"")
        let parity = PtyGuest.acceptsParity()
        let script = """
            import serial, sys, time
            port = serial.serial_for_url("rfc2217://127.0.0.1:\(rig.port)", baudrate=57600, timeout=5)
            print("OPEN", flush=True)
            port.write(b"ping\\xff\\r")
            data = b""
            deadline = time.time() + 10
            while b"pong" not in data and time.time() < deadline:
                data += port.read(100)
            print("GOT", data.count(b"pong\\xff"), flush=True)
            port.baudrate = 19200
            \(parity ? "port.parity = serial.PARITY_EVEN" : "")
            print("SET", flush=True)
            port.send_break(0.3)
            print("CTS", port.cts, flush=True)
            port.reset_input_buffer()
            port.close()
            print("DONE", flush=True)
            """
        let client = try LiveProcess("/usr/bin/env", ["python3", "-c", script])
        try client.waitForOutput("OPEN", timeout: 15)
        #expect(try Termios.currentSettings(rig.guest.pair.slave).baud == 57_600)
        try rig.guest.waitFor("ping")
        try waitUntil(timeout: 5, "ping, 0xFF, CR on the device") {
            try? rig.guest.waitFor("\r", timeout: 0.1)
            return rig.guest.received.contains(Array("ping".utf8) + [0xFF, 0x0D])
        }
        try rig.guest.write(Array("pong".utf8) + [0xFF] + Array("\r\n".utf8))
        try client.waitForOutput("GOT 1")
        try client.waitForOutput("SET")
        #expect(try Termios.currentSettings(rig.guest.pair.slave).baud == 19_200)
        if parity { #expect(try Termios.currentSettings(rig.guest.pair.slave).parity == .even) }
        try client.waitForOutput("DONE", timeout: 15)
        #expect(client.stdout.contains("CTS True"), "\(client.stdout)")
        try waitUntil(timeout: 5, "a break record:\n\(rig.audit)") { rig.audit.contains(#""event":"break""#) }
        #expect(rig.audit.contains(#""event":"settings""#))
        #expect(try rig.env.logContents("pbx").count > 0)
        #expect(String(decoding: rig.env.logContents("pbx"), as: UTF8.self).contains("BREAK"))
    }

    @Test(.enabled(if: haveTelnet)) func telnetClientNegotiatesAndTalks() throws {
        let rig = try Rig("tcp_mode = \"telnet\"")
        try rig.guest.write("login: ")
        let (program, arguments) = ProcessRun.shielded("/usr/bin/telnet", ["-8", "-E", "127.0.0.1", String(rig.port)])
        let client = try LiveProcess(program, arguments)
        try client.waitForOutput("login: ")
        client.write("root\r\n")
        try rig.guest.waitFor("root\r")
        try rig.guest.write("\r\nPassword: ")
        try client.waitForOutput("Password: ")
        #expect(!client.stdout.contains("\u{FF}"), "telnet commands leaked into the text: \(client.stdout.debugDescription)")
    }

    @Test func brokenTelnetEndsOnlyThatClient() throws {
        let rig = try Rig("tcp_mode = \"telnet\"")
        let good = try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(rig.port)"])
        try rig.daemon.waitForLog("attached: tcp@")
        // IAC SE with no subnegotiation open: a broken telnet stream.
        _ = try ProcessRun.run("/bin/sh", ["-c", "printf '\\377\\360' | /usr/bin/socat -t 2 - TCP:127.0.0.1:\(rig.port)"], input: "")
        try rig.daemon.waitForLog("telnet: IAC SE without IAC SB")
        try rig.guest.write("for the good one\r\n")
        try good.waitForOutput("for the good one")
    }
}
