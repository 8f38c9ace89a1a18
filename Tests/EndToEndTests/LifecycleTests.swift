import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// Daemon lifecycle: sockets, reload, shutdown, device loss, slow clients, logs.
@Suite struct LifecycleTests {
    @Test func socketIsMode0660AndPidFileWrittenThenEverythingRemovedOnSIGTERM() throws {
        let rig = try PtyConsoleRig()
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let attrs = try FileManager.default.attributesOfItem(atPath: env.socket("pbx"))
        #expect((attrs[.posixPermissions] as? Int) == 0o660)
        #expect((attrs[.type] as? FileAttributeType) == .typeSocket)
        let pid = try String(contentsOfFile: env.socketDir + "/rttyd.pid", encoding: .utf8)
        #expect(pid.trimmingCharacters(in: .whitespacesAndNewlines) == "\(daemon.process.processIdentifier)")
        let client = try ProtocolClient(socket: env.socket("pbx"))
        try client.identify()
        try client.waitForNotice(containing: "authorized")
        #expect(try daemon.stop() == 0)
        try client.waitForClose()
        #expect(client.notices.contains { $0.contains("shutting down") })
        #expect(!FileManager.default.fileExists(atPath: env.socket("pbx")))
        #expect(!FileManager.default.fileExists(atPath: env.socketDir + "/rttyd.pid"))
    }

    /// Runs the program after it with TERM, HUP and INT blocked, as a thread of a
    /// multi-threaded starter (this test runner's workers among them) leaves them.
    static let blockingTermination = [
        "/usr/bin/python3", "-c",
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}); os.execv(sys.argv[1], sys.argv[1:])",
    ]

    /// A mask is inherited through exec: before, a program of ours that traps no signal
    /// (rttyctl waiting in `expect`) and was started with TERM blocked ignored `kill -TERM`
    /// until it was done. rttyd and rtty trap it (through Dispatch), and must keep doing so.
    @Test func programsStartedWithTerminationBlockedStillLeaveOnSIGTERM() throws {
        let rig = try PtyConsoleRig(launcher: Self.blockingTermination)
        let expect = try LiveProcess(
            Self.blockingTermination[0],
            Array(Self.blockingTermination.dropFirst()) + [BuiltProducts.path("rttyctl"), "expect", "--socket-dir", rig.env.socketDir, "pbx", "never printed", "--timeout", "60"])
        try waitUntil(timeout: 10, "rttyctl's session on the console") { rig.env.auditLines.contains { $0.contains(#""event":"session-start""#) } }
        kill(expect.process.processIdentifier, SIGTERM)
        try waitUntil(timeout: 10, "rttyctl to die of SIGTERM") { !expect.process.isRunning }
        #expect(expect.process.terminationReason == .uncaughtSignal && expect.process.terminationStatus == SIGTERM)
        let rtty = try TerminalProcess(Self.blockingTermination[0], Array(Self.blockingTermination.dropFirst()) + [BuiltProducts.path("rtty"), "--socket-dir", rig.env.socketDir, "pbx"])
        try rtty.waitForOutput("~? for help")
        kill(rtty.process.processIdentifier, SIGTERM)
        try rtty.waitForOutput("[rtty: SIGTERM, leaving]")
        #expect(try rtty.waitForExit() == 1)
        #expect(try rig.daemon.stop() == 0, "rttyd: \(rig.daemon.stderr)")
    }

    /// A pid file from before a crash or a reboot whose pid now belongs to another program
    /// (here a `sleep`): rttyd starts, says it replaced the file, and writes its own pid. A
    /// pid file naming a live rttyd still stops a second one.
    @Test func stalePidFileNamingAnotherProgramDoesNotBlockStartUp() throws {
        let env = try TestEnvironment()
        try env.writeConfig("[console.x]\nexec = [\"/bin/cat\"]\n")
        let other = Process()
        other.executableURL = URL(fileURLWithPath: "/bin/sleep")
        other.arguments = ["60"]
        try other.start()
        defer {
            kill(other.processIdentifier, SIGKILL)  // the runner's children may ignore SIGTERM
            other.reap()
        }
        try Files.makeDirectory(env.socketDir, mode: 0o755)
        let pidFile = env.socketDir + "/rttyd.pid"
        try "\(other.processIdentifier)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        #expect(daemon.stderr.contains("pid file \(pidFile) named pid \(other.processIdentifier), which is now \"sleep\", not rttyd: replaced"), "\(daemon.stderr)")
        #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == "\(daemon.process.processIdentifier)\n")

        let second = try TestEnvironment()
        try second.writeConfig("[console.y]\nexec = [\"/bin/cat\"]\n")
        try Files.makeDirectory(second.socketDir, mode: 0o755)
        try "\(daemon.process.processIdentifier)\n".write(toFile: second.socketDir + "/rttyd.pid", atomically: true, encoding: .utf8)
        let refused = try DaemonProcess(second)
        try waitUntil(timeout: 10, "the second rttyd to give up; stderr: \(refused.stderr)") { !refused.process.isRunning }
        #expect(refused.process.terminationStatus != 0)
        #expect(refused.stderr.contains("rttyd pid \(daemon.process.processIdentifier) is running"), "\(refused.stderr)")
    }

    @Test func staleSocketFromACrashIsReplaced() throws {
        let env = try TestEnvironment()
        let guest = try PtyGuest()
        try env.writeConfig("[console.pbx]\ndevice = \"\(guest.devicePath)\"")
        let first = try DaemonProcess(env)
        try first.waitForSockets(["pbx"])
        first.signal(SIGKILL)
        first.process.waitUntilExit()
        #expect(Files.isSocket(env.socket("pbx")))
        let second = try DaemonProcess(env)
        try second.waitForLog("rttyd running")
        let client = try ProtocolClient(socket: env.socket("pbx"))
        try client.waitForNotice(containing: "authorized")
    }

    @Test func reloadAddsRemovesAndChangesConsolesWithoutDisturbingOthers() throws {
        let env = try TestEnvironment()
        let keep = try PtyGuest(), change = try PtyGuest(), drop = try PtyGuest(), add = try PtyGuest()
        func config(_ consoles: [(String, PtyGuest, Int)]) throws {
            try env.writeConfig(consoles.map { "[console.\($0.0)]\ndevice = \"\($0.1.devicePath)\"\nbaud = \($0.2)\n" }.joined(separator: "\n"))
        }
        try config([("keep", keep, 9600), ("change", change, 9600), ("drop", drop, 9600)])
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(["keep", "change", "drop"])
        let kept = try ProtocolClient(socket: env.socket("keep"))
        try kept.identify()
        let changed = try ProtocolClient(socket: env.socket("change"))
        try changed.identify()
        let dropped = try ProtocolClient(socket: env.socket("drop"))
        try dropped.identify()
        try kept.waitForNotice(containing: "connected")

        try config([("keep", keep, 9600), ("change", change, 19200), ("add", add, 9600)])
        daemon.signal(SIGHUP)
        try daemon.waitForLog("configuration reloaded: 1 added, 1 removed, 1 changed")
        try dropped.waitForClose()
        #expect(dropped.notices.contains { $0.contains("removed") })
        try changed.waitForNotice(containing: "reconfigured")
        try daemon.waitForSockets(["add"])
        #expect(!FileManager.default.fileExists(atPath: env.socket("drop")))
        try waitUntil(timeout: 5, "the changed console to run at 19200") {
            (try? Termios.currentSettings(change.pair.slave).baud) == 19200
        }
        // The untouched console and its client carry on, not told anything.
        try keep.write("undisturbed")
        try kept.waitForData(containing: "undisturbed")
        #expect(!kept.closed)
        #expect(!kept.notices.contains { $0.contains("reconfigured") || $0.contains("device") })

        // An invalid config is reported and the running one stays.
        try "[console.bad/name]\ndevice = 3\n".write(toFile: env.configPath, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try daemon.waitForLog("reload refused")
        try keep.write("still served")
        try kept.waitForData(containing: "still served")
        #expect(Files.isSocket(env.socket("add")))
    }

    @Test func slowClientIsCutOffWhileFastClientAndLogGetEveryByte() throws {
        let rig = try PtyConsoleRig(extra: "client_queue_bytes = 1048576\nreplay_bytes = 0")
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        try daemon.waitForLog("source open")
        let slow = try ProtocolClient(socket: env.socket("pbx"))
        try slow.identify("slow@pts/1")
        try slow.waitForNotice(containing: "@pts/1 connected")
        let fast = try ProtocolClient(socket: env.socket("pbx"))
        try fast.identify("fast@pts/2")
        try fast.waitForNotice(containing: "@pts/2 connected")
        // 3 MiB of output while `slow` reads nothing at all.
        var payload: [UInt8] = []
        for i in 0..<(3 << 20) / 64 { payload += Array(String(format: "%062d\r\n", i).utf8) }
        let bytes = payload
        let writer = Thread { try? guest.write(bytes) }
        writer.start()
        let found = try fast.pump(timeout: 60) { $0.data.count >= payload.count }
        #expect(found, "fast client got \(fast.data.count) of \(payload.count) bytes, closed: \(fast.closed), notices \(fast.notices)")
        #expect(fast.data.count == payload.count && fast.data.elementsEqual(payload), "fast client's bytes differ from the guest's")
        #expect(fast.notices.contains { $0.contains("@pts/1 was too slow") })
        try daemon.waitForLog("fell more than 1048576 bytes behind")
        try slow.pump(timeout: 10) { $0.closed }
        #expect(slow.closed)
        try waitUntil(timeout: 10, "the whole output in the log") { env.logContents("pbx").count >= payload.count }
        #expect(env.logContents("pbx").elementsEqual(payload), "the console log differs from the guest's bytes")
    }

    @Test func consoleLogIsReopenedOnSIGHUP() throws {
        let rig = try PtyConsoleRig(defaults: "timestamps = true")
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        try guest.write("before rotation\n")
        try daemon.waitUntilLogged(console: "pbx", contains: "before rotation", env: env)
        let text = String(decoding: env.logContents("pbx"), as: UTF8.self)
        // ISO-8601 UTC stamp at the line start.
        #expect(text.range(of: #"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] before rotation\n"#, options: .regularExpression) != nil)
        try FileManager.default.moveItem(atPath: env.log("pbx"), toPath: env.log("pbx") + ".0")
        daemon.signal(SIGHUP)
        try daemon.waitForLog("configuration reloaded")
        try guest.write("after rotation\n")
        try daemon.waitUntilLogged(console: "pbx", contains: "after rotation", env: env)
        #expect(!String(decoding: env.logContents("pbx"), as: UTF8.self).contains("before rotation"))
    }

    /// Built-in rotation with bursts: log_max_bytes = 2000 and 13 KB of lines in one
    /// write. Every file ends at a line end within the limit, and the generations together
    /// hold exactly what the guest wrote (a whole burst used to go to one file: 7-13 KB).
    @Test func builtInRotationSplitsABurstAtTheLimit() throws {
        let rig = try PtyConsoleRig(defaults: "log_max_bytes = 2000\nlog_keep = 20")
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let lines = (0..<330).map { String(format: "line %05d of the burst, padded to forty\n", $0) }
        let burst = lines.joined()
        try guest.write(burst + "end-mark\n")
        try daemon.waitUntilLogged(console: "pbx", contains: "end-mark", env: env)
        var generations: [Data] = []
        for n in stride(from: 20, through: 1, by: -1) {
            if let data = FileManager.default.contents(atPath: env.log("pbx") + ".\(n)") { generations.append(data) }
        }
        generations.append(env.logContents("pbx"))
        #expect(generations.count >= 7, "only \(generations.count) files")
        for (index, file) in generations.enumerated() {
            #expect(file.count <= 2000, "file \(index) has \(file.count) bytes")
            #expect(file.last == 10, "file \(index) of \(generations.map(\.count)) does not end at a line end")
        }
        #expect(String(decoding: generations.joined(), as: UTF8.self) == burst + "end-mark\n")
    }
}
