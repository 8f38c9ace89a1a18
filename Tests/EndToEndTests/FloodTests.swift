import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage
import Testing

/// Peers that flood what costs the daemon: input into a device that does not read, and
/// BREAKs and setting changes that each used to cost a notice to every client, a log
/// marker and an audit record (docs/RELIABILITY.md).
@Suite struct FloodTests {
    /// The daemon's memory may grow this much while it holds input back: the device queue
    /// (1 MiB), what the client being read when input was paused had read (a few reads of
    /// 64 KiB), the recording's batches and allocator slack; held back, it grew 1-5 MB here.
    /// Unbounded, six clients took it up by 250-290 MB into a stalled device and by 41 MB
    /// into an exec console that drains slowly, which a looser bound (64 MiB) would miss.
    static let rssBoundKiB = 16 * 1024

    static func rttyctl(_ rig: TCPTests.Rig, _ arguments: [String]) throws -> ProcessRun {
        try ProcessRun.run(BuiltProducts.path("rttyctl"), [arguments[0], "--control", rig.env.socketDir + "/control"] + arguments.dropFirst(), input: "")
    }

    static func watcher(_ rig: TCPTests.Rig, who: String = "watcher@pts/1") throws -> ProtocolClient {
        let watcher = try ProtocolClient(socket: rig.env.socket("pbx"))
        try watcher.waitForNotice(containing: "authorized")
        try watcher.identify(who)
        try watcher.waitForNotice(containing: "@pts/1 connected")
        return watcher
    }

    /// One flooding client: a Unix-socket client sending DATA frames, or a raw TCP client.
    final class Flooder {
        let offer: ([UInt8]) -> Int
        let burst: [UInt8]
        let hangUp: () -> Void

        init(unix path: String, index: Int) throws {
            let fd = try UnixSocket.connect(path: path)
            let hello = try Frame.withText(.whosOn, "flood\(index)@pts/\(20 + index)").encoded()
            _ = try hello.withUnsafeBytes { try fd.writeAll($0) }
            let frame = try Frame.withPayload(.data, [UInt8](repeating: UInt8(ascii: "u"), count: Frame.classicMaxPayload)).encoded()
            burst = [UInt8]((0..<64).flatMap { _ in frame })
            offer = { bytes in max(0, bytes.withUnsafeBytes { send(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }) }
            hangUp = { try? fd.close() }
        }

        init(tcp port: Int) throws {
            let client = try TCPClient(port: port)
            burst = [UInt8](repeating: UInt8(ascii: "t"), count: 32 << 10)
            offer = { client.offer($0) }
            hangUp = { withExtendedLifetime(client) {} }
        }

        /// Sends for `seconds`; returns how many bytes the daemon took.
        func flood(for seconds: Double) -> Int {
            let deadline = Date().addingTimeInterval(seconds)
            var sent = 0
            while Date() < deadline {
                let n = offer(burst)
                sent += n
                if n == 0 { usleep(5_000) }
            }
            return sent
        }
    }

    /// A device that stops reading (a guest that never reads its pty, a hung VM): six
    /// clients, each attached after the stall began, flood input for 2 s each. Input is held
    /// back for all of them, the daemon's memory stays bounded, the watcher keeps getting
    /// output and the log keeps growing; flooders that hang up while held back are gone
    /// (no slot kept), and once the device reads again a new client's typing arrives.
    @Test(arguments: ["unix", "tcp"])
    func stalledDeviceHoldsBackEveryClientWheneverItAttached(transport: String) throws {
        let rig = try TCPTests.Rig("tcp_mode = \"raw\"\nmax_clients = 12")
        let pid = rig.daemon.process.processIdentifier
        let watcher = try Self.watcher(rig)
        try rig.guest.write("warm-up\r\n")
        try watcher.waitForData(containing: "warm-up")
        let before = HostileClientTests.rssKiB(pid)
        var flooders: [Flooder] = []
        var taken: [Int] = []
        for index in 0..<6 {
            let flooder = transport == "unix" ? try Flooder(unix: rig.env.socket("pbx"), index: index) : try Flooder(tcp: rig.port)
            flooders.append(flooder)
            taken.append(flooder.flood(for: 2))
            try rig.guest.write("during flood \(index)\r\n")
            try watcher.waitForData(containing: "during flood \(index)")
        }
        let growth = HostileClientTests.rssKiB(pid) - before
        print("stalled device, \(transport): six flooders took \(taken.map { $0 >> 10 }) KiB; RSS \(before) KiB -> +\(growth) KiB")
        try waitUntil(timeout: 5, "the log to hold the last mark") {
            String(decoding: rig.env.logContents("pbx"), as: UTF8.self).contains("during flood 5")
        }
        if !HostileClientTests.underSanitizer {
            #expect(growth < Self.rssBoundKiB, "RSS grew by \(growth) KiB while the device was stalled")
        }
        // Held back, hung up: still noticed, so nobody keeps a slot of max_clients.
        for flooder in flooders { flooder.hangUp() }
        flooders.removeAll()
        var who = ""
        try waitUntil(timeout: 10, "the flooders to be gone; rttyctl who:\n\(who)") {
            who = try Self.rttyctl(rig, ["who"]).stdout
            return who.split(separator: "\n").count == 1
        }
        // The device reads again: what a client types now reaches it.
        let late = try ProtocolClient(socket: rig.env.socket("pbx"))
        try late.waitForNotice(containing: "authorized")
        try late.identify("late@pts/30")
        try late.type("after the stall\r")
        try rig.guest.waitFor("after the stall\r", timeout: 30)
        #expect(rig.daemon.process.isRunning)
    }

    /// The same stall from a hung program: an exec console whose command prints a tick
    /// every 100 ms and never reads its terminal. Six clients flood it in turn; the
    /// daemon's memory stays bounded and the ticks keep reaching a watcher and the log.
    @Test func anExecConsoleWhoseProgramNeverReadsHoldsBackEveryClient() throws {
        let env = try TestEnvironment()
        try env.writeConfig(#"[console.pbx]\#nexec = ["/bin/sh", "-c", "stty -echo; n=0; while :; do n=$((n+1)); echo tick $n; sleep 0.1; done"]\#n"#)
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        let watcher = try ProtocolClient(socket: env.socket("pbx"))
        try watcher.waitForNotice(containing: "authorized")
        try watcher.identify("watcher@pts/1")
        try watcher.waitForData(containing: "tick")
        let pid = daemon.process.processIdentifier
        let before = HostileClientTests.rssKiB(pid)
        var flooders: [Flooder] = []
        var taken: [Int] = []
        for index in 0..<6 {
            let flooder = try Flooder(unix: env.socket("pbx"), index: index)
            flooders.append(flooder)
            taken.append(flooder.flood(for: 2))
            watcher.clear()
            try watcher.waitForData(containing: "tick")
        }
        let growth = HostileClientTests.rssKiB(pid) - before
        print("exec console that never reads: six flooders took \(taken.map { $0 >> 10 }) KiB; RSS \(before) KiB -> +\(growth) KiB")
        if !HostileClientTests.underSanitizer {
            #expect(growth < Self.rssBoundKiB, "RSS grew by \(growth) KiB while the program did not read")
        }
        let log = { String(decoding: env.logContents("pbx"), as: UTF8.self) }
        let ticks = log().components(separatedBy: "tick").count
        try waitUntil(timeout: 5, "the console log to grow past \(ticks) ticks") { log().components(separatedBy: "tick").count > ticks }
        #expect(daemon.process.isRunning)
    }

    /// A reload that reopens the device while input is held back (a new baud rate): the
    /// old channel's queue goes with it, and everyone may type again, the clients attached
    /// before the stall included.
    @Test func aReconfigureDuringAStallLetsEveryClientTypeAgain() throws {
        let rig = try TCPTests.Rig("tcp_mode = \"raw\"")
        let typist = try Self.watcher(rig)
        let flooder = try Flooder(unix: rig.env.socket("pbx"), index: 0)
        #expect(flooder.flood(for: 1) > 0)
        try rig.env.writeConfig("[console.pbx]\ndevice = \"\(rig.guest.devicePath)\"\ntcp = \"127.0.0.1:\(rig.port)\"\ntcp_mode = \"raw\"\nbaud = 19200\n")
        rig.daemon.signal(SIGHUP)
        try rig.daemon.waitForLog("console pbx reconfigured")
        flooder.hangUp()
        try typist.waitForNotice(containing: "disconnected")
        try typist.type("typed after the reconfigure\r")
        try rig.guest.waitFor("typed after the reconfigure\r", timeout: 20)
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    static func occurrences(of needle: [UInt8], in bytes: [UInt8]) -> Int {
        var found = 0
        var i = 0
        while i + needle.count <= bytes.count {
            if bytes[i..<i + needle.count].elementsEqual(needle) {
                found += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }

    /// What a flood from one session left behind: notices to a watcher, log markers,
    /// audit records and daemon log lines.
    struct Traces: CustomStringConvertible {
        var notices: [String]
        var markers: Int
        var records: Int
        var logLines: Int
        var description: String { "\(notices.count) notices \(notices.prefix(3)), \(markers) log markers, \(records) audit records, \(logLines) daemon log lines" }
    }

    /// The requests a run's audit records account for: the one reported at once, plus
    /// what each summary counted (`fields`: "sent", "dropped" or "changes", "refused").
    static func accounted(_ rig: TCPTests.Rig, event: String, fields: [String]) -> Int {
        let records = rig.audit.split(separator: "\n").filter { $0.contains(#""event":"\#(event)""#) }
        return records.reduce(0) { total, record in
            let counts = fields.compactMap { field -> Int? in
                guard let range = record.range(of: #""\#(field)":"#) else { return nil }
                return Int(record[range.upperBound...].prefix { $0.isNumber })
            }
            return total + (counts.isEmpty ? 1 : counts.reduce(0, +))
        }
    }

    static func traces(_ rig: TCPTests.Rig, _ watcher: ProtocolClient, notice: String, marker: String, event: String) -> Traces {
        Traces(
            notices: watcher.notices.filter { $0.contains(notice) },
            markers: count(marker, in: String(decoding: rig.env.logContents("pbx"), as: UTF8.self)),
            records: count(#""event":"\#(event)""#, in: rig.audit),
            logLines: count(notice, in: rig.daemon.stderr))
    }

    /// One read-write telnet client sends `requests` then "done"; once the device has the
    /// "done" (so every request before it was handled) and the audit records account for
    /// every request, the traces are counted: one report at once and a few summaries.
    static func telnetFlood(_ requests: [UInt8], count: Int, summary: String, notice: String, event: String, fields: [String], answered: ((TCPClient) throws -> Void)? = nil) throws -> TCPTests.Rig {
        let rig = try TCPTests.Rig("tcp_mode = \"telnet\"")
        let watcher = try Self.watcher(rig)
        let flooder = try TCPClient(port: rig.port)
        try rig.daemon.waitForLog("attached: tcp@")
        try flooder.write(requests + Array("done\r".utf8))
        try rig.guest.waitFor("done\r")
        try answered?(flooder)
        var accounted = 0
        try waitUntil(timeout: 10, "the audit records to account for all \(count); they do for \(accounted):\n\(rig.audit)") {
            accounted = Self.accounted(rig, event: event, fields: fields)
            return accounted >= count
        }
        #expect(accounted == count, "the audit records account for \(accounted) of \(count):\n\(rig.audit)")
        try rig.guest.write("mark after the flood\r\n")
        try watcher.waitForData(containing: "mark after the flood")
        let seen = Self.traces(rig, watcher, notice: notice, marker: notice, event: event)
        print("\(FloodReport.count(count)) \(event) requests over telnet: \(seen)")
        // One at once, then a summary per window (0.25 or 0.3 s, doubling) the flood lasted:
        // five covers a flood handled within 3.75 s, as on a loaded test machine.
        #expect(seen.notices.count <= 5 && seen.markers <= 5 && seen.records <= 5 && seen.logLines <= 5, "\(seen)")
        #expect(seen.notices.contains { $0.contains(summary) }, "no summary with the count: \(seen.notices)")
        return rig
    }

    /// 10,000 telnet BREAKs from one read-write client, in one write (IAC BRK, or RFC 2217
    /// SET-CONTROL BREAK-ON then BREAK-OFF): one BREAK reaches the line (a BREAK while one
    /// is in progress is dropped), and everyone hears of the flood once, with its count.
    @Test(arguments: ["IAC BRK", "RFC 2217"])
    func tenThousandTelnetBreaksAreOneBreakAndOneCountedSummary(form: String) throws {
        let setControl = { (value: UInt8) in [Telnet.IAC, Telnet.SB, Telnet.Option.comPort, 5, value, Telnet.IAC, Telnet.SE] }
        let one = form == "IAC BRK" ? [Telnet.IAC, Telnet.BRK] : setControl(ComPort.Control.breakOn) + setControl(ComPort.Control.breakOff)
        let breaks = [UInt8]((0..<10_000).flatMap { _ in one })
        _ = try Self.telnetFlood(breaks, count: 10_000, summary: "more dropped", notice: "BREAK", event: "break", fields: ["sent", "dropped"])
    }

    /// 5,000 RFC 2217 flow-control changes (SET-CONTROL none / XON-XOFF in turn): each is
    /// applied and answered, and reported in one coalesced notice and record.
    @Test func fiveThousandFlowTogglesAreAppliedAndReportedCoalesced() throws {
        let toggles = (0..<5_000).flatMap { i -> [UInt8] in [Telnet.IAC, Telnet.SB, Telnet.Option.comPort, 5, i % 2 == 0 ? 2 : 1, Telnet.IAC, Telnet.SE] }
        // Every request answered (SET-CONTROL reply: 100 + 5).
        let answer: [UInt8] = [Telnet.IAC, Telnet.SB, Telnet.Option.comPort, 105]
        let rig = try Self.telnetFlood(toggles, count: 5_000, summary: "more changes", notice: "line settings now", event: "settings", fields: ["changes", "refused"]) { flooder in
            let all = flooder.pump(timeout: 10) { Self.occurrences(of: answer, in: $0.received) >= 5_000 }
            #expect(all, "\(Self.occurrences(of: answer, in: flooder.received)) of 5,000 SET-CONTROL requests answered")
        }
        #expect(try Termios.currentSettings(rig.guest.pair.slave).flow == .none, "the last toggle was not applied")
    }

    /// A patient flooder: a BREAK frame over the console socket every 450 ms, each after the
    /// last has left the line, so none is dropped. Each is sent; what others hear of them
    /// thins out as the run goes on (the window doubles), and the records count every one.
    @Test func breaksPacedToPassTheLineRuleAreReportedInGrowingWindows() throws {
        let rig = try TCPTests.Rig("tcp_mode = \"raw\"")
        let watcher = try Self.watcher(rig)
        let flooder = try ProtocolClient(socket: rig.env.socket("pbx"))
        try flooder.waitForNotice(containing: "authorized")
        try flooder.identify("patient@pts/2")
        try watcher.waitForNotice(containing: "@pts/2 connected")
        let sent = 18
        for _ in 0..<sent {
            try flooder.send(Frame(.breakSignal))
            usleep(450_000)
        }
        flooder.disconnect()  // what its last window held is reported at its end
        try watcher.waitForNotice(containing: "@pts/2 disconnected")
        try rig.guest.write("mark after the flood\r\n")
        try watcher.waitForData(containing: "mark after the flood")
        let seen = Self.traces(rig, watcher, notice: "BREAK", marker: "BREAK", event: "break")
        print("\(sent) BREAKs 450 ms apart over the console socket: \(seen)")
        // At once, then windows of 0.3 (empty), 0.3, 0.6, 1.2, 2.4, 4.8 s, the rest at its end: 7.
        #expect(seen.records <= 7 && seen.notices.count <= 7 && seen.markers <= 7, "\(seen)")
        let accounted = Self.accounted(rig, event: "break", fields: ["sent", "dropped"])
        #expect(accounted == sent, "the audit records account for \(accounted) of \(sent) BREAKs:\n\(rig.audit)")
        #expect(Self.accounted(rig, event: "break", fields: ["sent"]) == sent, "a paced BREAK was dropped:\n\(rig.audit)")
    }
}
