import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The control and report sockets against peers that hold connections or never read:
/// descriptors, CPU and memory of rttyd stay bounded and console clients still get in.
@Suite(.serialized) struct RequestLimitTests {
    static let perPeer = 16
    static let requestSeconds = 5

    /// Opens `count` connections to `path` and holds them, without a request: each waits up
    /// to 100 ms for room in the listener's backlog, and 50 in a row that find none mean the
    /// daemon stopped accepting. Prints how many connected and how many of the first 200
    /// were told "too many connections", then holds them until its stdin closes. A process
    /// of its own: the test's descriptor limit (20,000, not raisable in this container)
    /// cannot hold 20,000 sockets besides its own files.
    static let floodScript = """
        import socket, sys, time
        path, count = sys.argv[1], int(sys.argv[2])
        held, missed = [], 0
        while len(held) < count and missed < 50:
            for attempt in range(100):
                s = socket.socket(socket.AF_UNIX)
                s.setblocking(False)
                try:
                    s.connect(path)
                    held.append(s)
                    missed = 0
                    break
                except BlockingIOError:
                    s.close()
                    time.sleep(0.001)
                except OSError:
                    s.close()
                    break
            else:
                missed += 1
        time.sleep(1)
        told = 0
        for s in held[:200]:
            try:
                if b"too many connections" in s.recv(512):
                    told += 1
            except OSError:
                pass
        print(len(held), told, flush=True)
        sys.stdin.read()
        """

    /// A flood of `count` connections in a process of its own; `report` says "held told".
    static func flood(_ path: String, count: Int) throws -> (process: Process, stdin: Pipe, report: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", floodScript, path, String(count)]
        let stdin = Pipe(), report = Pipe()
        process.standardInput = stdin
        process.standardOutput = report
        try process.start()
        return (process, stdin, report)
    }

    /// 20,000 connections to the control socket that never send a request. Before: rttyd
    /// held every one until it ran out of descriptors (16,384 here), then spun at 100% CPU
    /// on the listener and refused console clients.
    @Test(.enabled(if: !HostileClientTests.underSanitizer)) func twentyThousandIdleControlConnections() throws {
        let rig = try PtyConsoleRig(launcher: ["/usr/bin/prlimit", "--nofile=16384:16384"])
        let pid = rig.daemon.process.processIdentifier
        let control = rig.env.socketDir + "/control"
        let fdsBefore = HostileClientTests.descriptors(pid)
        let floods = try (0..<2).map { _ in try Self.flood(control, count: 10_000) }
        defer {
            for flood in floods {
                try? flood.stdin.fileHandleForWriting.close()
                flood.process.reap(flood.stdin, flood.report)
            }
        }
        let reports = floods.map { flood in
            String(decoding: flood.report.fileHandleForReading.availableDataUntilNewline(), as: UTF8.self).split(separator: " ").compactMap { Int($0) }
        }
        let connected = reports.map { $0.first ?? 0 }.reduce(0, +)
        let told = reports.map { $0.last ?? 0 }.reduce(0, +)
        let fdsDuring = HostileClientTests.descriptors(pid)
        let before = FaultTests.cpuTicks(pid)
        sleep(3)
        let spent = FaultTests.cpuTicks(pid) - before
        print("control flood: \(connected) of 20000 connected, \(told) of the first 400 told why, rttyd fds \(fdsBefore) -> \(fdsDuring), \(spent) CPU ticks in 3 s")

        // A console client still gets in, and sees the console's output.
        let client = try ProtocolClient(socket: rig.env.socket("pbx"))
        try client.waitForNotice(containing: "authorized", timeout: 20)
        try client.identify("survivor@pts/1")
        try client.waitForNotice(containing: "connected")
        try rig.guest.write("still serving\r\n")
        try client.waitForData(containing: "still serving")
        let fdsAfter = HostileClientTests.descriptors(pid)
        #expect(spent < 30, "rttyd used \(spent) CPU ticks in 3 s holding idle control connections")
        #expect(fdsDuring < fdsBefore + 2 * RequestLimitTests.perPeer + 64, "rttyd holds \(fdsDuring) descriptors (\(fdsBefore) before)")
        #expect(fdsAfter < fdsBefore + 2 * RequestLimitTests.perPeer + 64, "rttyd holds \(fdsAfter) descriptors (\(fdsBefore) before)")
        #expect(connected >= 19_900, "only \(connected) connections were accepted")
        #expect(told >= 300, "\(told) of the first 400 were told why they were refused")
        // Once the idle ones time out, rttyctl is answered again.
        try waitUntil(timeout: Double(RequestLimitTests.requestSeconds) + 5, "rttyctl status to work again") {
            (try? ControlTests.rttyctl(["status", "--control", control]).status) == 0
        }
    }

    /// The cap is per peer: an admin-group member holding 8,000 idle connections (as its
    /// own uid, through setpriv) leaves root's requests answered at once.
    @Test(.enabled(if: AccessTests.needsRoot && !HostileClientTests.underSanitizer)) func oneAdminsFloodLeavesOthersAnswered() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let accounts = LocalAccounts()
        let admins = try accounts.group("admins")
        let admin = try accounts.user("flood", groups: [admins])
        // 4,096 descriptors: before, the flood alone used them all and root was refused too.
        let rig = try PtyConsoleRig(extra: "[control]\nadmin_group = \"\(admins)\"", launcher: ["/usr/bin/prlimit", "--nofile=4096:4096"])
        let control = rig.env.socketDir + "/control"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=\(admin.name)", "--regid=\(admin.name)", "--init-groups", "/usr/bin/python3", "-c", Self.floodScript, control, "8000"]
        let stdin = Pipe(), report = Pipe()
        process.standardInput = stdin
        process.standardOutput = report
        try process.start()
        defer {
            try? stdin.fileHandleForWriting.close()
            process.reap(stdin, report)
        }
        let counts = String(decoding: report.fileHandleForReading.availableDataUntilNewline(), as: UTF8.self).split(separator: " ").compactMap { Int($0) }
        let fds = HostileClientTests.descriptors(rig.daemon.process.processIdentifier)
        #expect(counts.first == 8000 && (counts.last ?? 0) >= 180, "held, told: \(counts); rttyd: \(rig.daemon.stderr.suffix(600))")
        #expect(fds < 200, "rttyd holds \(fds) descriptors")
        // The flooder's idle connections are still within their 5 s: root is answered anyway.
        let started = Date()
        let status = try ControlTests.rttyctl(["status", "--control", control])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(Date().timeIntervalSince(started) < 2)
    }

    /// The same limit on the report socket, and a slow peer (one byte every 300 ms, never a
    /// newline) is cut off at the request deadline however often it sends.
    @Test func slowRequestIsCutOffAtTheDeadline() throws {
        let rig = try PtyConsoleRig()
        let report = rig.env.socketDir + "/.report"
        try waitUntil(timeout: 5, "the report socket") { Files.isSocket(report) }
        let slow = try ControlClient(path: report)
        defer { slow.close() }
        let started = Date()
        var answer = ""
        while Date().timeIntervalSince(started) < Double(RequestLimitTests.requestSeconds) + 5 {
            guard slow.write("x") else { break }
            if Poll.readable(slow.fd, timeoutMilliseconds: 300) {
                answer = (try? slow.readAll(timeout: 2)) ?? ""
                break
            }
        }
        let took = Date().timeIntervalSince(started)
        #expect(answer.contains("no whole request within"), "after \(took) s: \(answer.debugDescription)")
        #expect(took < Double(RequestLimitTests.requestSeconds) + 2, "cut off after \(took) s")
        // More connections from one peer than the limit: the extra ones are refused at once.
        let held = try (0..<RequestLimitTests.perPeer).map { _ in try ControlClient(path: report) }
        defer { held.forEach { $0.close() } }
        let extra = try ControlClient(path: report)
        defer { extra.close() }
        let refusal = try extra.readAll(timeout: 5)
        #expect(refusal.contains("too many connections from uid \(getuid())"), "\(refusal)")
        #expect(controlOutcome(try ControlClient.ask(rig.env.socketDir + "/control", "status"))?.ok == true)
    }

    /// Ten `transcript` requests for a session that saw 48 MiB of output, never read.
    /// Before: each answer was built whole in memory (+616 MB for ten of a 64 MiB one).
    @Test(.enabled(if: !HostileClientTests.underSanitizer)) func unreadTranscriptAnswersKeepMemoryBounded() throws {
        let rig = try PtyConsoleRig()
        let pid = rig.daemon.process.processIdentifier
        let session = "pbx-1-1"
        let sessions = rig.env.logDir + "/sessions"
        try FileManager.default.createDirectory(atPath: sessions, withIntermediateDirectories: true)
        // The console's recording (one segment) and the session's file, as rttyd writes them.
        let chunk = Array((String(repeating: "café \u{1B}[1m\"x\"\\ ", count: 40) + "\r\n").utf8)
        let count = 48 << 20 / chunk.count
        let output = (0..<count).map { Recording.Record(kind: .output, time: 1_500_000, offset: UInt64($0 * chunk.count), payload: chunk) }
        let header = Recording.Header(console: "gone", session: session, title: "big", width: 80, height: 24)
        let records = [
            Recording.Record(kind: .header, time: 1_000_000, offset: 0, payload: header.payload),
            Recording.Record(kind: .view, time: 1_000_000, offset: 0),
            Recording.Record(kind: .end, time: 2_000_000, offset: UInt64(count * chunk.count)),
        ]
        try FileManager.default.createDirectory(atPath: sessions + "/gone.recording", withIntermediateDirectories: true)
        try Data(Recording.magic + output.flatMap(Recording.encode)).write(to: URL(fileURLWithPath: sessions + "/gone.recording/" + String(repeating: "0", count: 20) + ".rec"))
        try Data(Recording.magic + records.flatMap(Recording.encode)).write(to: URL(fileURLWithPath: sessions + "/\(session).session"))
        var assembler = Recording.CastAssembler(try #require(Recording.Session(records: records)), recorded: .max, runStart: 0, maxBytes: 64 << 20)
        let cast = assembler.header(timestamp: 1) + output.map { assembler.output($0) }.joined() + assembler.finish()

        let rssBefore = HostileClientTests.rssKiB(pid)
        let readers = try (0..<10).map { _ in try ControlClient(path: rig.env.socketDir + "/control") }
        defer { readers.forEach { $0.close() } }
        for reader in readers { reader.write("transcript \(session)\n") }
        // Every answer has begun (its first bytes are here), none is read further.
        for reader in readers { #expect(Poll.readable(reader.fd, timeoutMilliseconds: 20_000)) }
        var peak = 0
        for _ in 0..<10 {
            peak = max(peak, HostileClientTests.rssKiB(pid) - rssBefore)
            usleep(200_000)
        }
        print("10 unread transcript answers of \(cast.utf8.count >> 20) MiB: rttyd RSS +\(peak) KiB")
        #expect(peak < 48 * 1024, "rttyd grew by \(peak) KiB")
        // One of them read to the end is the whole file, exactly.
        let answer = try readers[0].readAll(timeout: 60)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        #expect((object["cast"] as? String) == cast, "the streamed cast differs from the recording's")
    }
}

extension FileHandle {
    /// Reads up to the first newline (or the end).
    func availableDataUntilNewline() -> Data {
        var line = Data()
        while true {
            let byte = readData(ofLength: 1)
            if byte.isEmpty || byte == Data([10]) { return line }
            line += byte
        }
    }
}
