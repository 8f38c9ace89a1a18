import NIOCore
import RTTYCore
import Testing

@testable import RTTYDaemon

/// An event that reaches clients is said in each wire form: a NOTICE for classic and
/// rtty/1 clients (and the SETTINGS frame for rtty/1), nothing at all for raw and telnet
/// TCP clients. Every byte between two marks of device output is counted.
@Suite struct NoticeWireFormTests {
    private func clients(_ rig: HubRig) throws -> [TestClient] {
        let classic = try rig.client(who: "classic@pts/1")
        let extended = try rig.client(who: "extended@pts/2", hello: "rtty/1")
        let raw = try rig.tcpClient(.raw, port: 40001)
        let telnet = try rig.tcpClient(.telnet, port: 40002)
        let all = [classic, extended, raw, telnet]
        try rig.output("<A>")
        for client in all {
            _ = try client.read()
        }
        return all
    }

    /// What each client got after "<A>": the frames of a framed client, the bytes of a TCP one.
    private func check(_ all: [TestClient], notices: [String], settings: String? = nil) throws {
        let (classic, extended, raw, telnet) = (all[0], all[1], all[2], all[3])
        for client in [classic, extended] {
            let frames = client.frames.drop { !($0.kind == .data && $0.text.hasSuffix("<A>")) }.dropFirst()
            var expected: [(Frame.Kind, String)] = notices.map { (.notice, $0) }
            if client === extended, let settings { expected.append((.settings, settings)) }
            expected.append((.data, "<B>"))
            #expect(frames.map(\.kind) == expected.map(\.0), "\(client.form)")
            #expect(frames.map(\.text) == expected.map(\.1), "\(client.form)")
        }
        for client in [raw, telnet] {
            let wire = client.wire
            let mark = try #require(wire.lastRange(of: Array("<A>".utf8)))
            #expect(Array(wire[mark.lowerBound...]) == Array("<A><B>".utf8), "\(client.form): \(wire[mark.lowerBound...])")
        }
    }

    @Test func aSettingsChangeIsToldInEachWireForm() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""#)
        let all = try clients(rig)
        #expect(rig.hub.adminChange("baud=9600", by: "admin") == nil)
        try rig.output("<B>")
        for client in all { try client.read() }
        try check(all, notices: ["line settings now 9600 8N1 (by admin)"], settings: rig.hub.settings.summary)
    }

    @Test func aLostAndReopenedDeviceIsToldInEachWireForm() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""#)
        let all = try clients(rig)
        try rig.replaceDevice()
        try rig.output("<B>")
        for client in all { try client.read() }
        try check(all, notices: ["device lost: end of file; reopening", "device back"])
    }

    @Test func aBreakIsToldInEachWireForm() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""#, linePty: true)
        let all = try clients(rig)
        #expect(rig.hub.adminBreak(by: "admin") == nil)
        try rig.output("<B>")
        for client in all { try client.read() }
        try check(all, notices: ["BREAK sent by admin"])
        rig.advance(LineControl.breakDuration)
    }

    @Test func aTelnetBreakIsToldInEachWireForm() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""#, linePty: true)
        let all = try clients(rig)
        try all[3].send(bytes: [Telnet.IAC, Telnet.BRK])
        try rig.output("<B>")
        for client in all { try client.read() }
        try check(all, notices: ["BREAK sent by tcp@127.0.0.1:40002"])
        rig.advance(LineControl.breakDuration)
    }

    @Test func aBreakRefusedIsToldOnlyToWhoAskedInItsForm() throws {
        let rig = try HubRig(console: #"tcp = "127.0.0.1:7001""#)
        let all = try clients(rig)
        try all[0].send(Frame(.breakSignal))
        try rig.output("<B>")
        for client in all { try client.read() }
        let refusal = try #require(all[0].notices.last { $0.contains("BREAK") })
        #expect(refusal.hasPrefix("cannot send BREAK"))
        #expect(!all[1].notices.contains { $0.contains("BREAK") })
    }
}

extension Array where Element == UInt8 {
    func lastRange(of needle: [UInt8]) -> Range<Int>? {
        guard needle.count <= count else { return nil }
        for start in stride(from: count - needle.count, through: 0, by: -1) where Array(self[start..<start + needle.count]) == needle {
            return start..<start + needle.count
        }
        return nil
    }
}
