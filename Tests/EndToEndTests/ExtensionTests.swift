import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// rtty/1 extensions: used only after HELLO, never seen by classic clients.
@Suite struct ExtensionTests {
    @Test func customBaudThroughSettingsReachesTheDriverAndClassicClientsSeeOnlyNotices() throws {
        let rig = try PtyConsoleRig()
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let modern = try ProtocolClient(socket: env.socket("pbx"))
        try modern.send(.withText(.hello, "rtty/1"))
        let hello = try modern.waitForFrame { $0.kind == .hello }
        #expect(hello.text.hasPrefix("rtty/1 console=pbx session="))
        #expect(hello.text.contains("rights=rw"))
        #expect(hello.text.contains("state=up"))
        try modern.identify("modern@pts/1")
        let classic = try ProtocolClient(socket: env.socket("pbx"))
        try classic.identify("classic@pts/2")
        try classic.waitForNotice(containing: "@pts/2 connected")

        try modern.send(.withText(.settings, "baud=250000 stop=2"))
        #expect(try modern.waitForFrame { $0.kind == .result }.text == "ok")
        #expect(try modern.waitForFrame { $0.kind == .settings && !$0.query }.text.contains("baud=250000"))
        let line = try Termios.currentSettings(guest.pair.slave)
        #expect(line.baud == 250_000)
        #expect(line.stopBits == 2)
        try classic.waitForNotice(containing: "line settings now 250000 8N2")
        // A classic BAUD query cannot carry 250000 in 16 bits: it says 0, never a wrong rate.
        try classic.send(Frame(.baud, query: true))
        #expect(try classic.waitForFrame { $0.kind == .baud && $0.query }.value == 0)
        #expect(classic.frames.allSatisfy { !$0.kind.isExtension })

        try modern.send(.withText(.settings, "baud=fast"))
        #expect(try modern.waitForFrame { $0.kind == .result && $0.text.hasPrefix("error") }.text.hasPrefix("error"))
        #expect(try modern.waitForFrame { $0.kind == .error }.text.contains("baud=fast"))
        try modern.send(.withText(.settings, query: true, ""))
        #expect(try modern.waitForFrame { $0.kind == .settings && $0.query }.text == "baud=250000 data=8 parity=none stop=2 flow=none")
    }

    @Test func readOnlySessionIsEnforcedByTheDaemon() throws {
        let rig = try PtyConsoleRig()
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let viewer = try ProtocolClient(socket: env.socket("pbx"))
        try viewer.send(.withText(.hello, "rtty/1 ro"))
        #expect(try viewer.waitForFrame { $0.kind == .hello }.text.contains("rights=ro"))
        try viewer.identify("viewer@pts/1")
        try viewer.type("rm -rf /\r")
        #expect(try viewer.waitForFrame { $0.kind == .error }.text.contains("read-only"))
        try viewer.send(Frame(.breakSignal))
        try viewer.send(Frame(.baud, value: 300))
        #expect(try viewer.waitForFrame { $0.kind == .baud && !$0.query }.value == 0)
        #expect(try !guest.received("rm", beforeMarkerTypedOn: env.socket("pbx")))
        #expect(try Termios.currentSettings(guest.pair.slave).baud == 115_200)
        try guest.write("but it can watch")
        try viewer.waitForData(containing: "but it can watch")
    }

    @Test func exclusivePolicyLetsOneWriterTypeUntilAnotherTakesTheLock() throws {
        let env = try TestEnvironment()
        let guest = try PtyGuest()
        try env.writeConfig("[console.pbx]\ndevice = \"\(guest.devicePath)\"\nwrite_policy = \"exclusive\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        let first = try ProtocolClient(socket: env.socket("pbx"))
        try first.send(.withText(.hello, "rtty/1"))
        try first.identify("first@pts/1")
        try first.waitForNotice(containing: "@pts/1 connected")
        let second = try ProtocolClient(socket: env.socket("pbx"))
        try second.send(.withText(.hello, "rtty/1"))
        try second.identify("second@pts/2")
        try second.type("from-second")
        #expect(try second.waitForFrame { $0.kind == .error }.text.contains("has the write lock"))
        try first.type("from-first")
        try guest.waitFor("from-first")
        try second.send(.withText(.writeLock, "take"))
        #expect(try second.waitForFrame { $0.kind == .result }.text == "ok")
        try first.waitForNotice(containing: "took over the write lock")
        try second.type("now-second")
        try guest.waitFor("now-second")
        #expect(!guest.receivedText.contains("from-second"))
    }

    @Test func probeAnswersWithoutAnnouncingItself() throws {
        let rig = try PtyConsoleRig()
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let watcher = try ProtocolClient(socket: env.socket("pbx"))
        try watcher.identify("watcher@pts/1")
        try watcher.waitForNotice(containing: "@pts/1 connected")
        let probe = try ProtocolClient(socket: env.socket("pbx"))
        try probe.send(.withText(.hello, "rtty/1 probe"))
        #expect(try probe.waitForFrame { $0.kind == .hello }.text.contains("state=up"))
        try probe.waitForClose()
        // Absence after a marker: a client that attaches after the probe left is announced
        // after anything the probe could have caused.
        let marker = try ProtocolClient(socket: env.socket("pbx"))
        try marker.identify("marker@pts/3")
        try watcher.waitForNotice(containing: "@pts/3 connected")
        let before = watcher.notices.prefix { !$0.contains("@pts/3 connected") }
        #expect(before.filter { $0.contains("connected") || $0.contains("disconnected") }.count == 1, "\(before)")
    }
}
