import NIOCore
import RTTYCore
import Testing

@testable import RTTYDaemon

/// Device output to clients, in virtual time: coalescing of full tty reads, and a client
/// that stops reading.
@Suite struct OutputTests {
    /// A tty read of 4095 bytes says more is waiting: the output is held for at most
    /// `coalesceDelay` (this replaced a wall-clock check in ConsoleSessionTests); a short
    /// read goes out at once.
    @Test func aFullReadIsHeldAtMostTheCoalesceDelayAndAShortOneNot() throws {
        let rig = try HubRig()
        let client = try rig.client()
        _ = client.data
        let full = (0..<ConsoleHub.ttyReadSize).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        try rig.output(full)
        #expect(client.data.isEmpty, "a full read is held: more is waiting")
        rig.advance(ConsoleHub.coalesceDelay - .microseconds(1))
        #expect(client.data.isEmpty)
        rig.advance(.microseconds(1))
        #expect(client.data == full, "sent when the delay ends, though no more came")
        try rig.output("prompt$ ")
        #expect(client.data == full + Array("prompt$ ".utf8), "a short read is not held")
    }

    /// Full reads that add up to `coalesceBytes` go out without waiting for the timer, in
    /// one write per client.
    @Test func fullReadsPastTheCoalesceLimitGoOutAtOnce() throws {
        let rig = try HubRig()
        let client = try rig.client()
        _ = try client.read()
        let reads = ConsoleHub.coalesceBytes / ConsoleHub.ttyReadSize + 1
        var sent: [UInt8] = []
        for index in 0..<reads {
            let block = [UInt8](repeating: UInt8(ascii: "A") + UInt8(index % 26), count: ConsoleHub.ttyReadSize)
            sent += block
            try rig.output(block, complete: false)
        }
        rig.device.pipeline.fireChannelReadComplete()
        #expect(client.data == sent, "nothing waits for the timer past coalesceBytes")
    }

    /// A client that stops reading is cut off; the others are told, and keep every byte.
    @Test func aSlowClientIsCutOffAndNobodyElseWaits() throws {
        let rig = try HubRig()
        let slow = try rig.client(who: "slow@pts/1")
        let other = try rig.client(who: "other@pts/2")
        try rig.output("before ")
        slow.stall()
        #expect(!slow.isOpen)
        try rig.output("after")
        #expect(other.data == Array("before after".utf8))
        #expect(other.notices.contains("root@pts/1 was too slow and was disconnected"))
        let end = try #require(rig.auditLines().first { $0.contains(#""event":"session-end""#) })
        #expect(end.contains("too slow: more than"))
    }
}

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
