import NIOEmbedded
import Testing

@testable import RTTYDaemon

/// ClientSession's life: only the transitions that mean something take effect.
@Suite struct SessionLifeTests {
    private func session() -> ClientSession {
        ClientSession(id: "pbx-1", channel: EmbeddedChannel(), userName: "?", now: 0)
    }

    @Test func aSessionGoesFromConnectingToOnRecordToClosing() {
        let s = session()
        #expect(s.life == .open(.connecting) && !s.admitted)
        #expect(!s.putOnRecord(), "not admitted: nothing to record")
        s.markProbe()
        #expect(s.life == .open(.connecting))
        s.admit()
        #expect(s.life == .open(.admitted) && s.admitted && !s.isOnRecord)
        #expect(s.putOnRecord())
        #expect(!s.putOnRecord(), "recorded once")
        s.markProbe()
        #expect(!s.isProbe, "a session already on record stays one")
        #expect(!s.replayDone)
        s.replayDone = true
        #expect(s.life == .open(.onRecord(.sent)))
        s.markClosing()
        #expect(s.closing && s.isOnRecord && s.replayDone)
        s.admit()
        #expect(s.life == .closing(.onRecord(.sent)))
    }

    @Test func aProbeNeverGoesOnRecordAndAClosingSessionStillDoes() {
        let probe = session()
        probe.admit()
        probe.markProbe()
        #expect(probe.isProbe && !probe.putOnRecord())
        let early = session()
        early.admit()
        early.markClosing()
        #expect(early.putOnRecord(), "a session that ends before its first frame is recorded all the same")
        #expect(early.life == .closing(.onRecord(.due)))
        early.replayDone = true
        #expect(!early.replayDone, "no replay to a closing session")
    }

    @Test func declinedReplayIsLiveOutputAtOnce() {
        let s = session()
        s.admit()
        _ = s.putOnRecord()
        s.declineReplay()
        #expect(s.replayDone && !s.wantsReplay)
    }
}
