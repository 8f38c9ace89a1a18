import NIOCore
import RTTYCore
import Testing

@testable import RTTYDaemon

/// One admission path for Unix-socket and TCP clients (ConsoleHub+Admission.swift). The
/// first four tests are the drifts between the two paths it replaced: each failed on the
/// code before it.
@Suite struct HubAdmissionTests {
    /// Drift: every refusal was audited except a Unix-socket client whose credentials could
    /// not be read (logged only).
    @Test func aClientWithoutCredentialsIsRefusedOnRecord() throws {
        let rig = try HubRig()
        let client = try rig.client(uid: nil, who: nil)
        #expect(!client.isOpen)
        #expect(client.notices == [ClosingNotice.unverified.text])
        let denied = rig.auditLines().filter { $0.contains(#""event":"denied""#) }
        #expect(denied.count == 1)
        #expect(denied.first?.contains("cannot read its credentials") == true)
        #expect(denied.first?.contains("4294967295") == false, "an unverified client has no uid to record")
    }

    /// Drift: a client the access rules keep out was "denied USER (uid, pid)" on the socket
    /// and "refused TCP client ADDRESS" on TCP: one event, two wordings.
    @Test func accessRefusalsAreWordedAlikeForBothKinds() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""# + "\n" + #"tcp_allow = ["10.0.0.0/8"]"#)
        let local = try rig.client(uid: 65534, who: nil)
        let tcp = try rig.tcpClient(.raw, from: "127.0.0.1")
        #expect(!local.isOpen && !tcp.isOpen)
        let refusals = rig.logs.all.filter { $0.hasPrefix("warning: ") }
        #expect(refusals.count == 2)
        #expect(refusals.allSatisfy { $0.hasPrefix("warning: denied ") }, "\(refusals)")
        #expect(refusals.contains { $0.contains("(uid 65534, pid 4242)") })
        #expect(refusals.contains { $0.contains("tcp@127.0.0.1:40000: 127.0.0.1 is not in tcp_allow") })
    }

    /// Drift: a TCP client refused by the client limits was logged with "pid -1", a pid
    /// only Unix-socket clients have.
    @Test func aTCPClientRefusedByTheLimitsIsNamedByItsAddress() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""# + "\nmax_clients = 1")
        let first = try rig.tcpClient(.raw, port: 40001)
        let second = try rig.tcpClient(.raw, port: 40002)
        #expect(first.isOpen && !second.isOpen)
        let refusal = try #require(rig.logs.all.first { $0.contains("console full") })
        #expect(!refusal.contains("pid"), "\(refusal)")
        #expect(refusal.contains("tcp@127.0.0.1:40002"))
    }

    /// Drift: lowering a session to read-only released its write lock after an ACL reload
    /// but not after its own HELLO `ro`, so a session that could no longer type kept
    /// everyone else from typing.
    @Test func aSessionThatTurnsReadOnlyGivesUpTheWriteLock() throws {
        let rig = try HubRig(console: #"write_policy = "exclusive""#)
        let holder = try rig.client(who: "holder@pts/1")
        let other = try rig.client(who: "other@pts/2")
        try holder.send(.withText(.hello, "rtty/1 ro"))
        try other.type("typed\r")
        #expect(try rig.deviceInput() == Array("typed\r".utf8))
        #expect(!other.notices.contains { $0.contains("has the write lock") })
    }

    /// The limits are the same for both kinds, with the same audit reason.
    @Test func maxClientsRefusesSocketAndTCPClientsInTheSameWords() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""# + "\nmax_clients = 1\nmax_clients_per_user = 5", acl: "nobody pbx rw\n")
        let first = try rig.client(uid: 65534, who: "nobody@pts/1")
        #expect(first.isOpen)
        let local = try rig.client(uid: 65534, who: nil)
        let tcp = try rig.tcpClient(.telnet)
        #expect(!local.isOpen && !tcp.isOpen)
        let reasons = rig.auditLines().filter { $0.contains(#""event":"denied""#) }
        #expect(reasons.count == 2)
        #expect(reasons.allSatisfy { $0.contains("console full: max_clients 1") })
        #expect(local.notices.last == ClosingNotice.full(console: "pbx", why: "console full: max_clients 1").text)
        // Root still gets in: slots are kept for root and the admin group.
        #expect(try rig.client(uid: 0).isOpen)
    }

    @Test func perUserAndPerAddressLimits() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""# + "\nmax_clients_per_user = 1", acl: "nobody pbx rw\n")
        let tcpFirst = try rig.tcpClient(.raw, from: "127.0.0.1", port: 40001)
        let tcpSecond = try rig.tcpClient(.raw, from: "127.0.0.1", port: 40002)
        let otherAddress = try rig.tcpClient(.raw, from: "127.0.0.2", port: 40003)
        let user = try rig.client(uid: 65534)
        let sameUser = try rig.client(uid: 65534)
        #expect(tcpFirst.isOpen && !tcpSecond.isOpen && otherAddress.isOpen)
        #expect(user.isOpen && !sameUser.isOpen)
        #expect(rig.auditLines().filter { $0.contains("max_clients_per_user 1") }.count == 2)
    }
}
