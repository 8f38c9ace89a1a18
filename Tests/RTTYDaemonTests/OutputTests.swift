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
        rig.advance(ClientOutput.coalesceDelay - .microseconds(1))
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
        let reads = ClientOutput.coalesceBytes / ConsoleHub.ttyReadSize + 1
        var sent: [UInt8] = []
        for index in 0..<reads {
            let block = [UInt8](repeating: UInt8(ascii: "A") + UInt8(index % 26), count: ConsoleHub.ttyReadSize)
            sent += block
            try rig.output(block, complete: false)
        }
        rig.device.pipeline.fireChannelReadComplete()
        // The sink counts its framed bytes: the read that takes them past coalesceBytes
        // sends everything before it, at once; the last full read waits at most the delay.
        let got = client.data
        #expect(got.count >= ClientOutput.coalesceBytes - 2 * ConsoleHub.ttyReadSize && sent.starts(with: got), "nothing waits for the timer past coalesceBytes: \(got.count) bytes of \(sent.count)")
        rig.advance(ClientOutput.coalesceDelay)
        #expect(client.data == sent, "the rest after the delay: \(client.data.count) bytes of \(sent.count)")
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
