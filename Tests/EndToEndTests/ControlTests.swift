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
}
