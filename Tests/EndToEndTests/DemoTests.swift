import Foundation
import RTTYSystem
import Testing

/// `rttyd --demo` as a new user runs it: unprivileged, on a machine that has the system's
/// rtty groups (as after installing the package).
@Suite struct DemoTests {
    @Test(.enabled(if: AccessTests.needsRoot)) func demoAsAnOrdinaryUserKeepsItsControlSocketAndIsFoundByTheExportedVariables() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        // A system admin group the demo's user is not in: the control socket once took it.
        let createdGroup = Accounts.groupID(named: "rtty-admin") == nil
        if createdGroup { try SSHRig.must("/usr/sbin/groupadd", ["rtty-admin"]) }
        defer { if createdGroup { _ = try? ProcessRun.run("/usr/sbin/groupdel", ["rtty-admin"], input: "") } }
        let env = try TestEnvironment()
        chmod(env.root, 0o755)
        let state = env.root + "/demo"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        chown(state, 65534, 65534)
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]
        let daemon = try LiveProcess("/usr/bin/setpriv", asNobody + [BuiltProducts.path("rttyd"), "--demo", "--state-dir", state])
        try daemon.waitForOutput("RTTY_CONTROL=")
        #expect(!daemon.stderr.contains("no control socket"), "rttyd: \(daemon.stderr)")
        // The line the demo prints, used as a user would paste it.
        let exported = daemon.stdout.split(separator: "\n").first { $0.contains("export RTTY_SOCKET_DIR=") } ?? ""
        var variables: [String: String] = ["PATH": "/usr/bin:/bin"]
        for word in exported.split(separator: " ") where word.contains("=") {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            variables[parts[0]] = parts[1]
        }
        #expect(variables["RTTY_SOCKET_DIR"] == state + "/run" && variables["RTTY_CONTROL"] == state + "/run/control", "printed: \(exported)")
        try waitUntil(timeout: 10, "the demo consoles to open; rttyd: \(daemon.stderr)") { daemon.stderr.contains("source open") }
        let status = try ProcessRun.run(
            "/usr/bin/setpriv", asNobody + [BuiltProducts.path("rttyctl"), "status"], input: "", environment: variables)
        #expect(status.status == 0, "rttyctl status: \(status.stderr)")
        #expect(status.stdout.contains("demo") && status.stdout.contains("shell"), "rttyctl status: \(status.stdout)")
        let list = try ProcessRun.run("/usr/bin/setpriv", asNobody + [BuiltProducts.path("rtty")], input: "", environment: variables)
        #expect(list.status == 0, "rtty: \(list.stderr)")
        #expect(list.stdout.contains("demo") && list.stdout.contains("shell"), "rtty: \(list.stdout)")
        try waitUntil(timeout: 20, "the simulated guest's login prompt in the demo log") {
            ((try? String(contentsOfFile: state + "/log/demo.log", encoding: .utf8)) ?? "").contains("login:")
        }
        let attach = try ProcessRun.run(
            "/usr/bin/setpriv", asNobody + [BuiltProducts.path("rtty"), "--timeout", "1", "demo"], input: "\n", environment: variables)
        #expect(attach.stdout.contains("login:"), "rtty demo: \(attach.stdout) \(attach.stderr)")
    }
}
