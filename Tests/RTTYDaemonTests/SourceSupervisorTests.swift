import NIOCore
import NIOEmbedded
import Testing

@testable import RTTYDaemon

/// Source supervision in virtual time: a lost source is reopened with back-off, and a
/// stopped console tries no more.
@Suite struct SourceSupervisorTests {
    /// Attempts to open the (missing) device so far.
    private func attempts(_ rig: HubRig) -> Int { rig.logs.all.filter { $0.contains("cannot open") }.count }

    @Test func aLostSourceIsReopenedWithDoublingBackOff() throws {
        let rig = try HubRig()
        let client = try rig.client()
        rig.device.pipeline.fireChannelInactive()
        #expect(client.notices.last == "device lost: end of file; reopening")
        #expect(!rig.hub.state.isUp)
        // 0.5 s, then 1 s, then 2 s: the device path stays missing.
        for (step, delay) in [500, 1000, 2000].enumerated() {
            rig.advance(.milliseconds(Int64(delay) - 1))
            #expect(attempts(rig) == step, "before \(delay) ms")
            rig.advance(.milliseconds(1))
            #expect(attempts(rig) == step + 1, "after \(delay) ms")
        }
        // Said loudly once; the same failure again quietly.
        #expect(rig.logs.all.filter { $0.hasPrefix("error: cannot open") }.count == 1)
        #expect(client.isOpen, "the clients stay while the source is down")
    }

    @Test func aStoppedConsoleTriesNoMore() throws {
        let rig = try HubRig()
        let client = try rig.client()
        rig.device.pipeline.fireChannelInactive()
        try rig.hub.stop(reason: .shuttingDown).wait()
        rig.loop.run()
        rig.advance(.seconds(60))
        #expect(attempts(rig) == 0)
        #expect(!client.isOpen)
    }
}
