import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// TCP sessions answer to tcp_allow and tcp_rights, not to the user ACL: a reload (as
/// logrotate's weekly SIGHUP), a grant or a revoke leaves them alone; a reload that takes
/// their address out of tcp_allow ends them, one that lowers tcp_rights makes them read-only.
@Suite struct TCPReloadTests {
    /// RFC 2217 SIGNATURE request: the daemon answers it in stream order, so its answer
    /// says that everything the client sent before it has been dealt with.
    static let signatureRequest: [UInt8] = [Telnet.IAC, Telnet.SB, Telnet.Option.comPort, 0, Telnet.IAC, Telnet.SE]
    static let signatureAnswer: [UInt8] = [Telnet.IAC, Telnet.SB, Telnet.Option.comPort, 100]

    @Test func reloadGrantAndRevokeKeepTCPSessionsAndTcpAllowOrRightsActOnThem() throws {
        let rig = try TCPTests.Rig("tcp_mode = \"telnet\"")
        try "# test ACL\n".write(toFile: rig.env.root + "/access", atomically: true, encoding: .utf8)
        let control = ["--control", rig.env.socketDir + "/control"]
        func rttyctl(_ arguments: [String]) throws {
            let run = try ProcessRun.run(BuiltProducts.path("rttyctl"), [arguments[0]] + control + arguments.dropFirst(), input: "")
            #expect(run.status == 0, "rttyctl \(arguments): \(run.stderr)")
        }
        var reloads = 0
        func reload(_ tcpKeys: String) throws {
            try rig.env.writeConfig("[console.pbx]\ndevice = \"\(rig.guest.devicePath)\"\ntcp = \"127.0.0.1:\(rig.port)\"\ntcp_mode = \"telnet\"\n\(tcpKeys)\n")
            reloads += 1
            rig.daemon.signal(SIGHUP)
            try waitUntil(timeout: 10, "reload \(reloads); stderr:\n\(rig.daemon.stderr)") {
                rig.daemon.stderr.components(separatedBy: "configuration reloaded").count > reloads
            }
        }
        let socat = try LiveProcess("/usr/bin/socat", ["-", "TCP:127.0.0.1:\(rig.port)"])
        let raw = try TCPClient(port: rig.port)
        try waitUntil(timeout: 5, "two TCP sessions:\n\(rig.audit)") { rig.audit.components(separatedBy: #""event":"session-start""#).count == 3 }

        try reload("")
        try rig.guest.write("after reload\r\n")
        try socat.waitForOutput("after reload")
        try rttyctl(["grant", "nobody", "pbx"])
        try rig.guest.write("after grant\r\n")
        try socat.waitForOutput("after grant")
        try rttyctl(["revoke", "nobody", "pbx"])
        try rig.guest.write("after revoke\r\n")
        try socat.waitForOutput("after revoke")
        try raw.waitFor("after revoke")
        socat.write("still typing\r")
        try rig.guest.waitFor("still typing\r")
        #expect(!rig.audit.contains("access revoked"), "\(rig.audit)")

        // tcp_rights lowered: the sessions stay, but their typing no longer reaches the device.
        try reload("tcp_rights = \"ro\"")
        try rig.guest.write("after ro\r\n")
        try raw.waitFor("after ro")
        try raw.write(Array("ro-typed\r".utf8) + Self.signatureRequest)
        let answered = raw.pump(timeout: 10) { $0.received.contains(subsequence: Self.signatureAnswer) }
        #expect(answered, "no RFC 2217 signature answer")
        #expect(try !rig.guest.received("ro-typed", beforeMarkerTypedOn: rig.env.socket("pbx")), "a session downgraded by tcp_rights still typed")
        #expect(socat.process.isRunning)

        // The address taken out of tcp_allow: both sessions end, and say why in the audit log.
        try reload("tcp_allow = [\"192.0.2.0/24\"]")
        try raw.waitForClose()
        try socat.waitForExit()
        try waitUntil(timeout: 5, "two sessions ended by the reload:\n\(rig.audit)") {
            rig.audit.components(separatedBy: #""reason":"access revoked""#).count == 3
        }
        #expect(rig.daemon.stderr.contains("is not in tcp_allow"), "\(rig.daemon.stderr)")
        print("TCP sessions across \(reloads) reloads, a grant and a revoke: kept; tcp_rights ro: downgraded; tcp_allow: ended")
    }
}
