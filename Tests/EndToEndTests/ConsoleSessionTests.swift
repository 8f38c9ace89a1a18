import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage
import Testing

/// The built rttyd driven by a classic-protocol client over its console socket, with a
/// pty as the device.
@Suite struct ConsoleSessionTests {
    @Test func classicClientGetsAuthorizedOutputAndTypesToDevice() throws {
        let rig = try PtyConsoleRig()
        let client = try rig.client()
        #expect(client.notices.contains("\(Accounts.currentUserName())@pts/9 connected"))
        try rig.guest.write("login: ")
        try client.waitForData(containing: "login: ")
        try client.type("root\r")
        try rig.guest.waitFor("root\r")
        #expect(client.notices.first == "authorized")
    }

    @Test func everyClientGetsEveryByteAndSeesOthersComeAndGo() throws {
        let rig = try PtyConsoleRig()
        let clients = try (0..<5).map { try rig.client(who: "user\($0)@pts/\($0)") }
        try clients[0].waitForNotice(containing: "@pts/4 connected")
        var expected: [UInt8] = []
        for i in 0..<200 {
            let line = "line \(i) " + String(repeating: "x", count: i % 90) + "\r\n"
            expected += Array(line.utf8)
            try rig.guest.write(line)
        }
        let lastLine = "line 199 " + String(repeating: "x", count: 199 % 90) + "\r\n"
        for client in clients {
            // The whole last line: it may arrive in more than one read.
            try client.waitForData(containing: lastLine)
            #expect(client.data.suffix(expected.count).elementsEqual(expected))
            // Classic clients never get a DATA frame longer than the classic buffer.
            #expect(client.frames.allSatisfy { $0.kind != .data || $0.payload.count <= Frame.classicMaxPayload })
        }
        try clients[0].type("typed by one\r")
        try rig.guest.waitFor("typed by one\r")
        clients[4].disconnect()
        try clients[0].waitForNotice(containing: "@pts/4 disconnected")
    }

    /// Output ending on a full tty read (4095 bytes, "more is waiting") is held for
    /// coalescing; when no more comes, the short timer must still send it, every byte. How
    /// long it is held is checked in virtual time, not here (RTTYDaemonTests, OutputTests).
    @Test func outputEndingOnAFullReadStillArrives() throws {
        let rig = try PtyConsoleRig()
        let client = try rig.client()
        for size in [4095, 8190, 3 * 4095, 65536, 70000] {
            // Exactly `size` bytes, the marker at the very end: the last read may be full.
            let marker = Array("<end \(size)>".utf8)
            let block = (0..<size - marker.count).map { UInt8(ascii: "a") + UInt8($0 % 26) } + marker
            try rig.guest.write(block)
            try client.waitForData(containing: "<end \(size)>")
            #expect(client.data.suffix(block.count).elementsEqual(block))
        }
    }

    @Test func newClientGetsReplayFirst() throws {
        let rig = try PtyConsoleRig(defaults: "replay_bytes = 64")
        try rig.guest.write(String(repeating: "old ", count: 40) + "END-OF-HISTORY")
        try rig.daemon.waitUntilLogged(console: "pbx", contains: "END-OF-HISTORY", env: rig.env)
        let client = try rig.client()
        try client.waitForData(containing: "END-OF-HISTORY")
        #expect(client.data.count == 64)
        try rig.guest.write("live")
        try client.waitForData(containing: "live")
        #expect(String(decoding: client.data, as: UTF8.self).hasSuffix("END-OF-HISTORYlive"))
    }

    @Test func lineSettingsSetAndQueriedClassicallyAreRealAndAnnounced() throws {
        let rig = try PtyConsoleRig()
        let setter = try rig.client(who: "setter@pts/1")
        let watcher = try rig.client(who: "watcher@pts/2")
        try setter.send(Frame(.baud, value: 9600))
        let reply = try setter.waitForFrame { $0.kind == .baud && !$0.query }
        #expect(reply.value == 1)
        try watcher.waitForNotice(containing: "line settings now 9600 8N1")
        // Parity and word size: what the daemon answers must be what the driver did. Recent
        // Linux ptys refuse PARENB/CS7 (EINVAL, as `stty -F` shows), real UARTs take them.
        let driverTakesParity = PtyGuest.acceptsParity()
        try setter.send(.withText(.parity, "even"))
        #expect(try setter.waitForFrame { $0.kind == .parity && !$0.query }.value == (driverTakesParity ? 1 : 0))
        try setter.send(Frame(.wordSize, value: 7))
        #expect(try setter.waitForFrame { $0.kind == .wordSize && !$0.query }.value == (driverTakesParity ? 1 : 0))
        try setter.send(Frame(.baud, query: true))
        #expect(try setter.waitForFrame { $0.kind == .baud && $0.query }.value == 9600)
        try setter.send(Frame(.parity, query: true))
        #expect(try setter.waitForFrame { $0.kind == .parity && $0.query }.text == (driverTakesParity ? "even" : "none"))
        try setter.send(Frame(.wordSize, query: true))
        #expect(try setter.waitForFrame { $0.kind == .wordSize && $0.query }.value == (driverTakesParity ? 7 : 8))
        if !driverTakesParity {
            #expect(setter.notices.contains { $0.contains("parity=even") && $0.contains("Invalid argument") })
        }
        // The driver really holds what the daemon reports: read back through the guest's fd.
        let line = try Termios.currentSettings(rig.guest.pair.slave)
        #expect(line.baud == 9600)
        #expect(line.parity == (driverTakesParity ? .even : .none))
        #expect(line.dataBits == (driverTakesParity ? 7 : 8))
        // A bad value is refused and changes nothing.
        setter.clear()
        try setter.send(.withText(.parity, "purple"))
        #expect(try setter.waitForFrame { $0.kind == .parity && !$0.query && $0.value == 0 }.value == 0)
        #expect(setter.notices.contains { $0.contains("purple") })
        try waitUntil(timeout: 5, "settings marker in the log") {
            String(decoding: rig.env.logContents("pbx"), as: UTF8.self).contains("line settings now 9600 ")
        }
    }

    @Test func breakIsSentAnnouncedAndLogged() throws {
        let rig = try PtyConsoleRig()
        let sender = try rig.client(who: "op@pts/1")
        let watcher = try rig.client(who: "other@pts/2")
        try sender.send(Frame(.breakSignal))
        try sender.waitForNotice(containing: "BREAK")
        try watcher.waitForNotice(containing: "BREAK sent by")
        try waitUntil(timeout: 5, "BREAK marker in the log") {
            String(decoding: rig.env.logContents("pbx"), as: UTF8.self).contains("BREAK")
        }
    }

    @Test func tailWhosonAndVersionQueries() throws {
        let rig = try PtyConsoleRig()
        try rig.guest.write(String(repeating: "a", count: 3000) + "TAILEND")
        let client = try rig.client()
        try client.waitForData(containing: "TAILEND")
        client.clear()
        try client.send(Frame(.tail, query: true))
        try client.waitForNotice(containing: "tail-")
        #expect(client.notices.contains("tail+"))
        #expect(client.data.count == 1024)
        #expect(String(decoding: client.data, as: UTF8.self).hasSuffix("TAILEND"))
        try client.send(Frame(.whosOn, query: true))
        try client.waitForNotice(containing: "idle")
        try client.send(Frame(.version, query: true))
        try client.waitForNotice(containing: RTTYVersion.string)
    }

    @Test func oversizedFrameEndsOnlyThatClient() throws {
        let rig = try PtyConsoleRig()
        let good = try rig.client(who: "good@pts/1")
        let bad = try rig.client(who: "bad@pts/2")
        // The classic daemon's fatal input: a 20,000-byte DATA frame.
        try bad.sendRaw([0, 1, 0x4E, 0x20] + [UInt8](repeating: 0x41, count: 20_000))
        try bad.waitForClose()
        #expect(bad.notices.contains { $0.hasPrefix("protocol error") })
        try rig.guest.write("still here")
        try good.waitForData(containing: "still here")
        let garbage = try rig.client(who: "garbage@pts/3")
        try garbage.sendRaw([0x7F, 0x63, 0, 0])
        try garbage.waitForClose()
        try good.type("alive\r")
        try rig.guest.waitFor("alive\r")
    }
}

extension DaemonProcess {
    func waitUntilLogged(console: String, contains text: String, env: TestEnvironment) throws {
        try waitUntil(timeout: 10, "\"\(text)\" in the log of \(console)") {
            String(decoding: env.logContents(console), as: UTF8.self).contains(text)
        }
    }
}
