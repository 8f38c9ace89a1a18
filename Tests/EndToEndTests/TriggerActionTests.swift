import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// Triggers on a running rttyd: what a match does (audit, notice on every wire form, log
/// mark, command), its limits (rate, timeout, descriptors) and reload.
@Suite struct TriggerActionTests {
    static let panic = "[    4.537387] Kernel panic - not syncing: sysrq triggered crash"

    /// A pty console with a TCP port in `mode` and `triggers` (TOML tables).
    static func rig(_ mode: String = "raw", triggers: String) throws -> TCPTests.Rig {
        try TCPTests.Rig("tcp_mode = \"\(mode)\"\n" + triggers)
    }

    static func trigger(_ name: String = "linux-panic", match: String = "Kernel panic - not syncing", more: String = "") -> String {
        "[[console.pbx.trigger]]\nname = \"\(name)\"\nmatch = '\(match)'\n\(more)\n"
    }

    static func records(_ rig: TCPTests.Rig, _ event: String) -> [String] {
        rig.audit.split(separator: "\n").map(String.init).filter { $0.contains(#""event":"\#(event)""#) }
    }

    /// The daemon's own threads carry names (`top -H`, `ps -L`, perf): before, the log
    /// writer and the trigger matcher showed as a second "NIO-ELT-0-#0", their creator.
    @Test func theDaemonsOwnThreadsAreNamed() throws {
        let rig = try Self.rig(triggers: Self.trigger())
        try rig.guest.write("some output for the matcher\r\n")
        let tasks = "/proc/\(rig.daemon.process.processIdentifier)/task"
        var names: [String] = []
        try waitUntil(timeout: 10, "the writer and trigger threads; threads: \(names)") {
            names = ((try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []).compactMap {
                try? String(contentsOfFile: tasks + "/" + $0 + "/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
            }
            return names.contains("rttyd-writer") && names.contains("rttyd-triggers")
        }
    }

    /// One match between two marks from the guest, watched by a classic client, an rtty/1
    /// client and a raw or telnet client: the framed clients get the notice once and the
    /// line's bytes exactly; the TCP stream gets the line's bytes and not one byte more
    /// (a notice in a raw stream would read as guest output); the audit record, the log
    /// mark and the command follow.
    @Test(.enabled(if: TCPTests.haveTelnet), arguments: ["raw", "telnet"])
    func aMatchReachesEveryWireFormTheAuditTheLogAndItsCommand(mode: String) throws {
        let command = #"command = ["/usr/bin/python3", "-c", "import os\nfor k in sorted(os.environ): print(k + '=' + os.environ[k])\ndef open_(f):\n  try:\n    os.fstat(f); return True\n  except OSError: return False\nprint('fds', [f for f in range(4096) if open_(f)])"]"#
        let rig = try Self.rig(mode, triggers: Self.trigger(more: command))
        let classic = try ProtocolClient(socket: rig.env.socket("pbx"))
        try classic.waitForNotice(containing: "authorized")
        try classic.identify("classic@pts/1")
        try classic.waitForNotice(containing: "@pts/1 connected")
        let modern = try ProtocolClient(socket: rig.env.socket("pbx"))
        try modern.send(.withText(.hello, "rtty/1"))
        _ = try modern.waitForFrame { $0.kind == .hello }
        try modern.identify("modern@pts/2")
        try classic.waitForNotice(containing: "@pts/2 connected")
        let stream = try rig.streamWatcher(mode: mode)

        try rig.guest.write("mark-one\r\n")
        try stream.waitForOutput("mark-one\r\n")
        try rig.guest.write("\u{1B}[31m" + Self.panic + "\u{1B}[0m\r\n")
        let notice = "trigger linux-panic: " + Self.panic
        try classic.waitForNotice(containing: notice)
        try modern.waitForNotice(containing: notice)
        try rig.guest.write("mark-two\r\n")
        for client in [classic, modern] {
            try client.waitForData(containing: "mark-two")
            #expect(client.notices.filter { $0.contains("trigger") } == [notice])
            let data = String(decoding: client.data, as: UTF8.self)
            let between = data[data.range(of: "mark-one\r\n")!.upperBound..<data.range(of: "mark-two")!.lowerBound]
            #expect(between == "\u{1B}[31m" + Self.panic + "\u{1B}[0m\r\n")
        }
        try stream.waitForOutput("mark-two\r\n")
        let tcp = stream.stdout
        let between = tcp[tcp.range(of: "mark-one\r\n")!.upperBound..<tcp.range(of: "mark-two")!.lowerBound]
        #expect(between == "\u{1B}[31m" + Self.panic + "\u{1B}[0m\r\n", "the \(mode) stream: \(between.debugDescription)")

        let records = Self.records(rig, "trigger")
        #expect(records.count == 1)
        let record = auditFields(rig.audit).first { $0["event"] == "trigger" }
        #expect(record?["trigger"] == "linux-panic" && record?["line"] == Self.panic, "\(records)")
        #expect(record?["matched"] == "Kernel panic - not syncing" && record?["command"] == "started", "\(records)")
        var log: String { String(decoding: rig.env.logContents("pbx"), as: UTF8.self) }
        try waitUntil(timeout: 5, "mark-two in the console log") { log.contains("mark-two") }
        #expect(log.contains(Self.panic + "\u{1B}[0m\r\n[rtty: trigger linux-panic: \(Self.panic)]\nmark-two"), "\(log.debugDescription)")

        try rig.daemon.waitForLog("trigger linux-panic command /usr/bin/python3: exited 0")
        let output = rig.daemon.stderr
        for expected in ["RTTY_CONSOLE=pbx", "RTTY_TRIGGER=linux-panic", "RTTY_LINE=\(Self.panic)", "RTTY_MATCH=Kernel panic - not syncing", "RTTY_SKIPPED=0", "RTTY_LOG=\(rig.env.log("pbx"))", "fds [0, 1, 2]"] {
            #expect(output.contains("command output: " + expected), "\(expected) missing from:\n\(output)")
        }
        #expect(!output.contains("command output: HOME="), "the command inherited rttyd's environment")
        try waitUntil(timeout: 5, "the command's audit record") { Self.records(rig, "trigger-command").first?.contains(#""status":"exited 0""#) == true }
    }

    /// A guest that prints the pattern in a loop: ten records, notices and marks per ten
    /// seconds per trigger, the rest counted; the command runs once per command_interval.
    @Test func aFloodOfMatchesIsBoundedAndTheCommandRunsOnce() throws {
        let rig = try Self.rig(triggers: Self.trigger(more: #"command = ["/bin/true"]"# + "\ncommand_interval = 600"))
        let watcher = try ProtocolClient(socket: rig.env.socket("pbx"))
        try watcher.waitForNotice(containing: "authorized")
        try watcher.identify("watcher@pts/1")
        try watcher.waitForNotice(containing: "@pts/1 connected")
        try rig.guest.write(String(repeating: Self.panic + "\r\n", count: 500) + "flood-done\r\n")
        try watcher.waitForData(containing: "flood-done")
        try rig.daemon.waitForLog("trigger linux-panic command /bin/true: exited 0")
        // The last of the flood is matched, then a marker that must come after it.
        try waitUntil(timeout: 5, "ten trigger records") { Self.records(rig, "trigger").count == 10 }
        try rig.guest.write("after\r\n")
        try watcher.waitForData(containing: "after")
        #expect(Self.records(rig, "trigger").count == 10)
        #expect(watcher.notices.filter { $0.hasPrefix("trigger ") }.count == 10)
        #expect(Self.records(rig, "trigger").filter { $0.contains(#""command":"started""#) }.count == 1)
        #expect(Self.records(rig, "trigger").filter { $0.contains("not run: ran less than 600 s ago") }.count == 9)
        #expect(Self.records(rig, "trigger-command").count == 1)
        try waitUntil(timeout: 5, "after in the console log") { String(decoding: rig.env.logContents("pbx"), as: UTF8.self).contains("after") }
        let marks = String(decoding: rig.env.logContents("pbx"), as: UTF8.self).components(separatedBy: "[rtty: trigger linux-panic").count - 1
        #expect(marks == 10)
    }

    /// A command that does not end is killed at command_timeout with what it started.
    @Test func aCommandPastItsTimeoutIsKilledWithItsChildren() throws {
        let rig = try Self.rig(triggers: Self.trigger(more: #"command = ["/bin/sh", "-c", "sleep 300 & echo started $!; wait"]"# + "\ncommand_timeout = 1"))
        try rig.guest.write(Self.panic + "\r\n")
        try rig.daemon.waitForLog("command output: started ")
        try rig.daemon.waitForLog("trigger linux-panic command /bin/sh: timed out after 1 s (killed)", timeout: 10)
        let line = rig.daemon.stderr.components(separatedBy: "command output: started ")[1]
        let pid = try #require(Int32(line.prefix { $0.isNumber }))
        try waitUntil(timeout: 5, "the backgrounded sleep \(pid) ended") { kill(pid, 0) != 0 }
        try waitUntil(timeout: 5, "the audit record") { Self.records(rig, "trigger-command").first?.contains("timed out after 1 s") == true }
    }

    /// A hostile guest: the matched line carries shell syntax and terminal escapes (an
    /// OSC 52 clipboard write, a bidi override). Nothing runs it (no shell anywhere), and
    /// every place that shows it (notice, audit, mark, the command's environment) gets it
    /// with the escapes removed and the rest made visible.
    @Test func aHostileLineRunsNothingAndIsShownInert() throws {
        let rig = try Self.rig(triggers: Self.trigger(more: #"command = ["/usr/bin/printenv", "RTTY_LINE"]"#))
        let watcher = try ProtocolClient(socket: rig.env.socket("pbx"))
        try watcher.waitForNotice(containing: "authorized")
        try watcher.identify("watcher@pts/1")
        try watcher.waitForNotice(containing: "@pts/1 connected")
        let pwned = rig.env.root + "/pwned"
        try rig.guest.write("Kernel panic - not syncing: $(touch \(pwned)); `touch \(pwned)` \u{1B}]52;c;ZWNobyBoaQ==\u{07}\u{202E}x\r\n")
        let shown = "Kernel panic - not syncing: $(touch \(pwned)); `touch \(pwned)` \\u{202e}x"
        try watcher.waitForNotice(containing: "trigger linux-panic: " + shown)
        try rig.daemon.waitForLog("trigger linux-panic command /usr/bin/printenv: exited 0")
        #expect(rig.daemon.stderr.contains("command output: " + shown))
        #expect(Self.records(rig, "trigger").first?.contains(#""line":"\#(shown.replacingOccurrences(of: "\\", with: "\\\\"))""#) == true, "\(rig.audit)")
        #expect(!FileManager.default.fileExists(atPath: pwned))
    }

    /// SIGHUP: a changed pattern is used for the output that follows the reload.
    @Test func aReloadPicksUpChangedTriggers() throws {
        let rig = try Self.rig(triggers: Self.trigger("t", match: "alpha-event"))
        let watcher = try ProtocolClient(socket: rig.env.socket("pbx"))
        try watcher.waitForNotice(containing: "authorized")
        try watcher.identify("watcher@pts/1")
        try watcher.waitForNotice(containing: "@pts/1 connected")
        try rig.guest.write("beta-event\r\nalpha-event\r\n")
        try watcher.waitForNotice(containing: "trigger t: alpha-event")
        let config = try String(contentsOfFile: rig.env.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "alpha-event", with: "beta-event").write(toFile: rig.env.configPath, atomically: true, encoding: .utf8)
        let control = ["--control", rig.env.socketDir + "/control"]
        #expect(try ProcessRun.run(BuiltProducts.path("rttyctl"), ["reload"] + control, input: "").status == 0)
        try rig.guest.write("alpha-event\r\nbeta-event\r\n")
        try watcher.waitForNotice(containing: "trigger t: beta-event")
        try rig.guest.write("after\r\n")
        try watcher.waitForData(containing: "after")
        #expect(watcher.notices.filter { $0.hasPrefix("trigger ") } == ["trigger t: alpha-event", "trigger t: beta-event"])
        #expect(Self.records(rig, "trigger").count == 2)
    }

    /// A pattern that is no regular expression: --check-config names the line, and a
    /// reload to it keeps the running triggers.
    @Test func aBadPatternIsAConfigErrorWithItsLine() throws {
        let env = try TestEnvironment()
        try env.writeConfig("[console.pbx]\ndevice = \"/dev/null\"\n" + Self.trigger("ok") + Self.trigger("bad", match: "panic(: "))
        let run = try ProcessRun.run(BuiltProducts.rttyd, ["--config", env.configPath, "--check-config"], input: "")
        #expect(run.status != 0)
        let lines = try String(contentsOfFile: env.configPath, encoding: .utf8).components(separatedBy: "\n")
        let line = try #require(lines.firstIndex(of: "match = 'panic(: '")) + 1
        #expect((run.stderr + run.stdout).contains(":\(line): console.pbx.trigger[2].match: not a regular expression"), "\(run.stderr)")
    }
}
