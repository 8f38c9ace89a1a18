import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// Control requests are words joined by spaces; an argument holding a space or a control
/// character would be split again by the daemon (issue 14, item 11).
@Suite struct ControlArgumentTests {
    struct Rig {
        let accounts = LocalAccounts()
        /// A real user, so that a split request would be a grant the daemon can make.
        let rtm: String
        let env: TestEnvironment
        let daemon: DaemonProcess
        var control: [String] { ["--control", env.socketDir + "/control"] }
        var acl: String { (try? String(contentsOfFile: env.root + "/access", encoding: .utf8)) ?? "" }

        init() throws {
            rtm = try accounts.user("rtm").name
            env = try TestEnvironment()
            try "# the ACL\n".write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
            try env.writeConfig("[console.pbx]\nexec = [\"/bin/cat\"]\n[console.guests]\nexec = [\"/bin/cat\"]\n")
            daemon = try DaemonProcess(env)
            try daemon.waitForLog("rttyd running")
        }
    }

    @Test(.enabled(if: AccessTests.needsRoot)) func grantWithASpaceInTheUserIsRefusedByRttyctl() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let run = try ControlTests.rttyctl(["grant", "--read-only"] + rig.control + ["\(rig.rtm) guests", "pbx"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("\"\(rig.rtm) guests\" holds a space"), "\(run.stdout)\(run.stderr)")
        #expect(rig.acl == "# the ACL\n", "the ACL was changed:\n\(rig.acl)")
        let tab = try ControlTests.rttyctl(["grant"] + rig.control + [rig.rtm, "pbx\u{1B}[2J"])
        #expect(tab.status != 0)
        #expect(tab.stderr.contains("control or invisible character"), "\(tab.stderr)")
    }

    /// The daemon applies the same rule to whatever reaches its socket, rttyctl or not.
    @Test(.enabled(if: AccessTests.needsRoot), arguments: ["grant ro RTM  guests pbx", "grant ro RTM guests\tpbx", "grant ro RTM guests\u{00A0}pbx", "grant ro RTM guests pbx\r"])
    func daemonRefusesRequestsWithBadWords(line: String) throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let answer = try ControlClient.ask(rig.env.socketDir + "/control", line.replacingOccurrences(of: "RTM", with: rig.rtm))
        #expect(controlOutcome(answer)?.ok == false && answer.contains("request refused"), "\(answer)")
        #expect(rig.acl == "# the ACL\n", "the ACL was changed:\n\(rig.acl)")
        #expect(controlOutcome(try ControlClient.ask(rig.env.socketDir + "/control", "status"))?.ok == true)
    }
}
