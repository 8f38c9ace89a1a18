import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// Configurations that turn the daemon against itself (issue 14, item 8): `--check-config`
/// and a running daemon's reload refuse each with file:line, and the running
/// configuration is kept.
@Suite struct ConfigConflictTests {
    /// One bad configuration: its text, and the line and words the refusal must name.
    struct Case: CustomStringConvertible {
        let name: String
        let text: String
        let line: Int
        let says: String
        var alternative: (line: Int, says: String)?
        var description: String { name }

        /// Whether a refusal names this case's line and says what it must.
        func named(in text: String, file: String) -> Bool {
            let accepted = [(line, says)] + (alternative.map { [$0] } ?? [])
            return accepted.contains { text.contains("\(file):\($0.0):") && text.contains($0.1) }
        }
    }

    /// A console `pbx` on a pty, in `env`, and the cases built around it.
    struct Rig {
        let env = try! TestEnvironment()
        let guest = try! PtyGuest()

        func config(paths overrides: [String: String] = [:], consoles extra: String = "") -> String {
            var paths: [(String, String)] = [
                ("socket_dir", env.socketDir), ("control", env.socketDir + "/control"), ("log_dir", env.logDir),
                ("audit_log", env.logDir + "/audit.jsonl"), ("session_dir", env.logDir + "/sessions"), ("access", env.root + "/access"),
                ("pid_file", env.socketDir + "/rttyd.pid"),
            ]
            for (key, value) in overrides { paths[paths.firstIndex { $0.0 == key }!].1 = value }
            let lines = ["[paths]"] + paths.map { "\($0.0) = \"\($0.1)\"" } + ["", "[defaults]", "group = \"\(Accounts.groupName(getegid()) ?? "root")\"", "[console.pbx]", "device = \"\(guest.devicePath)\"", extra]
            return lines.joined(separator: "\n") + "\n"
        }

        static func line(of prefix: String, in text: String) -> Int {
            (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix(prefix) } ?? -1) + 1
        }

        func cases() throws -> [Case] {
            let byID = env.root + "/serial-by-id"
            try? FileManager.default.removeItem(atPath: byID)
            try FileManager.default.createSymbolicLink(atPath: byID, withDestinationPath: guest.devicePath)
            var cases: [Case] = []
            func add(_ name: String, _ text: String, at prefix: String, _ says: String) {
                cases.append(Case(name: name, text: text, line: Self.line(of: prefix, in: text), says: says))
            }
            let twoOnOne = config(consoles: "[console.usb]\ndevice = \"\(byID)\"")
            add("two consoles on one device through a symlink", twoOnOne, at: "device = \"\(byID)\"", "the device of console usb is the device of console pbx")
            let control = config(paths: ["control": env.socketDir + "/pbx"])
            add("a console socket that is the control socket", control, at: "[console.pbx]", "the socket of console pbx is the control socket")
            let pid = config(paths: ["pid_file": env.socketDir + "/pbx"])
            add("a console socket that is the pid file", pid, at: "[console.pbx]", "the socket of console pbx is the pid file")
            let audit = config(paths: ["audit_log": env.logDir + "/./pbx.log"])
            add("an audit log that is a console log", audit, at: "[console.pbx]", "the log of console pbx is the audit log")
            let layout = config(paths: ["log_dir": env.socketDir], consoles: "[console.\"pbx.log\"]\nexec = [\"/bin/cat\"]")
            // Which of the two is named depends on the order the consoles are read in.
            add("a console log that is another console's socket", layout, at: "[console.\"pbx.log\"]", "the socket of console pbx.log is the log of console pbx")
            cases[cases.count - 1].alternative = (Self.line(of: "[console.pbx]", in: layout), "the log of console pbx is the socket of console pbx.log")
            let long = env.root + "/" + String(repeating: "d", count: 120)
            add("a socket path over the Unix limit", config(paths: ["socket_dir": long]), at: "socket_dir =", "a Unix socket path has at most 107")
            // Not in the issue: a unix source that is the daemon's own control socket would
            // let anyone who may type on the console send control requests as the daemon.
            let loop = config(consoles: "[console.loop]\nunix = \"\(env.socketDir)/control\"")
            add("a unix source that is the control socket", loop, at: "unix =", "the source socket of console loop is the control socket")
            return cases
        }
    }

    @Test func checkConfigRefusesEachWithFileAndLine() throws {
        let rig = Rig()
        for bad in try rig.cases() {
            try bad.text.write(toFile: rig.env.configPath, atomically: true, encoding: .utf8)
            let run = try ProcessRun.run(BuiltProducts.rttyd, ["--check-config", "--config", rig.env.configPath], input: "")
            #expect(run.status == 2, "\(bad): accepted:\n\(run.stdout)\(run.stderr)")
            #expect(bad.named(in: run.stderr, file: rig.env.configPath), "\(bad): not line \(bad.line), \(bad.says): \(run.stderr)")
        }
    }

    @Test func reloadRefusesEachAndKeepsTheRunningConfiguration() throws {
        let rig = Rig()
        try rig.config().write(toFile: rig.env.configPath, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(rig.env)
        // SIGHUP is taken once the daemon runs; one sent before that is not a reload.
        try daemon.waitForLog("rttyd running")
        for bad in try rig.cases() {
            try bad.text.write(toFile: rig.env.configPath, atomically: true, encoding: .utf8)
            let before = daemon.stderr.count
            var sent = Date.distantPast
            do {
                try waitUntil(timeout: 10, "the reload refused for \(bad)") {
                    // Again every 2 s: a SIGHUP that arrives between two reloads is
                    // sometimes not taken (seen 1 run in 3; not part of this test).
                    if Date().timeIntervalSince(sent) > 2 {
                        daemon.signal(SIGHUP)
                        sent = Date()
                    }
                    let since = String(daemon.stderr.dropFirst(before))
                    return since.contains("reload refused, keeping the running configuration") && bad.named(in: since, file: rig.env.configPath)
                }
            } catch {
                Issue.record("\(error); rttyd since the signal:\n\(daemon.stderr.dropFirst(before))")
                throw error
            }
        }
        let status = try ControlTests.rttyctl(["status", "--control", rig.env.socketDir + "/control"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("pbx  up"), "\(status.stdout)")
        #expect(!status.stdout.contains("usb") && !status.stdout.contains("loop"), "\(status.stdout)")
        #expect(!daemon.stderr.contains("configuration reloaded"), "a bad configuration was applied")
    }
}
