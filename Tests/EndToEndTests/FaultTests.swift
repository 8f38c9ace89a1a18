import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage
import Testing

/// Faults around the daemon (docs/RELIABILITY.md): SIGKILL and restart, reload storms,
/// limits that refuse with a notice and an audit line, an ACL replaced or made unreadable
/// mid-session, a console log on a full file system.
@Suite struct FaultTests {
    static var needsRoot: Bool { ProcessIdentity.isRoot || ProcessInfo.processInfo.environment["CI"] == "true" }

    static func audit(_ env: TestEnvironment) -> String {
        (try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? ""
    }

    @Test func killedDaemonRestartsOverItsStaleSocketsAndClosesTheSessionsItLeftOpen() throws {
        let guest = try PtyGuest()
        let env = try TestEnvironment()
        try env.writeConfig("[console.pbx]\ndevice = \"\(guest.devicePath)\"\n")
        var daemon: DaemonProcess? = try DaemonProcess(env)
        try daemon!.waitForLog("source open")
        let client = try ProtocolClient(socket: env.socket("pbx"))
        try client.identify("victim@pts/3")
        try waitUntil(timeout: 5, "the session-start record") { Self.audit(env).contains("session-start") }
        let start = try #require(Self.audit(env).split(separator: "\n").first { $0.contains("session-start") })
        let session = try #require(auditRecord(start)?.session)

        daemon!.signal(SIGKILL)
        try waitUntil(timeout: 5, "rttyd to die") { !daemon!.process.isRunning }
        daemon = nil
        #expect(Files.isSocket(env.socket("pbx")), "a killed daemon leaves its socket")
        try client.waitForClose()

        let second = try DaemonProcess(env)
        try second.waitForLog("recorded as ended abnormally")
        let end = try #require(Self.audit(env).split(separator: "\n").first { $0.contains("session-end") && $0.contains(session) })
        #expect(end.contains("ended abnormally"), "\(end)")
        #expect(end.contains(#""user":"\#(Accounts.currentUserName())""#))
        let again = try ProtocolClient(socket: env.socket("pbx"))
        try again.identify()
        try guest.write("after the restart\r\n")
        try again.waitForData(containing: "after the restart")
        // A clean restart has nothing to close.
        try second.stop()
        let third = try DaemonProcess(env)
        try third.waitForLog("rttyd running")
        #expect(!third.stderr.contains("ended abnormally"))
    }

    @Test func reloadStormLeavesClientsUndisturbedAndNothingGrowing() throws {
        let rig = try PtyConsoleRig()
        try rig.daemon.waitForLog("rttyd running")
        let client = try rig.client(who: "watcher@pts/1")
        let pid = rig.daemon.process.processIdentifier
        let fds = HostileClientTests.descriptors(pid)
        let rss = HostileClientTests.rssKiB(pid)
        // 100 SIGHUPs a second for 10 s, output flowing all the while.
        var expected: [UInt8] = []
        for tick in 0..<1000 {
            rig.daemon.signal(SIGHUP)
            if tick % 20 == 0 {
                let line = "tick \(tick)\r\n"
                expected += Array(line.utf8)
                try rig.guest.write(line)
            }
            usleep(10_000)
        }
        try rig.guest.write("end of storm\r\n")
        expected += Array("end of storm\r\n".utf8)
        try client.waitForData(containing: "end of storm", timeout: 30)
        #expect(client.data.suffix(expected.count).elementsEqual(expected), "output lost during the storm")
        #expect(!client.closed)
        #expect(!client.notices.contains { $0.contains("reconfigured") || $0.contains("removed") })
        #expect(rig.daemon.process.isRunning)
        try waitUntil(timeout: 10, "descriptors back to \(fds)") { HostileClientTests.descriptors(pid) <= fds }
        let growth = HostileClientTests.rssKiB(pid) - rss
        print("reload storm: 1000 SIGHUPs in ~10 s, fds \(fds) -> \(HostileClientTests.descriptors(pid)), RSS +\(growth) KiB")
        if !HostileClientTests.underSanitizer { #expect(growth < 32 * 1024) }
    }

    /// Thousands of reloads of a 40-console configuration leave rttyd's memory flat (the
    /// TOML library used before kept every parsed document: 16-47 MB per 5,000 reloads).
    @Test func thousandsOfReloadsLeaveMemoryFlat() throws {
        let env = try TestEnvironment()
        let consoles = (0..<40).map { "[console.c\($0)]\nexec = [\"/bin/cat\"]\nreplay_bytes = 4096\nmax_clients = 16\n" }.joined()
        try env.writeConfig(consoles)
        let daemon = try DaemonProcess(env, arguments: ["--log-level", "notice"])
        try daemon.waitForLog("rttyd running")
        let pid = daemon.process.processIdentifier
        // Each reload appends one record of fixed length to the audit log: its size counts
        // them without reading the growing log again and again.
        let audit = env.logDir + "/audit.jsonl"
        let recordLength = #"{"event":"reload","time":"2026-12-01T10:48:51.642Z"}"#.utf8.count + 1
        func auditSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: audit)[.size] as? Int) ?? 0 }
        func storm(_ count: Int) throws {
            for _ in 0..<count {
                let size = auditSize()
                daemon.signal(SIGHUP)
                let deadline = Date().addingTimeInterval(10)
                while auditSize() < size + recordLength {
                    guard Date() < deadline else { throw HarnessError("no reload record 10 s after SIGHUP; rttyd: \(daemon.stderr.suffix(500))") }
                    usleep(200)
                }
            }
        }
        try storm(300)  // warm: allocator pools, caches
        let rss = HostileClientTests.rssKiB(pid)
        try storm(5000)
        let growth = HostileClientTests.rssKiB(pid) - rss
        print("5,000 reloads of 40 consoles: RSS \(rss) KiB -> +\(growth) KiB")
        if !HostileClientTests.underSanitizer { #expect(growth < 8 * 1024, "RSS grew \(growth) KiB over 5,000 reloads") }
        #expect(daemon.process.isRunning)
    }

    @Test func clientCapRefusesWithANoticeAndAnAuditLine() throws {
        let rig = try PtyConsoleRig(defaults: "max_clients = 2")
        let a = try rig.client(who: "a@pts/1"), b = try rig.client(who: "b@pts/2")
        // The test runs as root, who may also take the slots kept for root and the admin
        // group (SessionAuditTests tries the cap as ordinary users).
        let reserve = try (0..<Admission.adminReserve).map { try rig.client(who: "admin@pts/\($0 + 3)") }
        let refused = try ProtocolClient(socket: rig.env.socket("pbx"))
        try refused.waitForNotice(containing: "console full: max_clients 2 and the \(reserve.count) slots kept for root and the admin group are taken")
        try refused.waitForClose()
        try waitUntil(timeout: 5, "a denied record") { Self.audit(rig.env).contains("console full: max_clients 2") }
        try rig.guest.write("still both\r\n")
        try a.waitForData(containing: "still both")
        try b.waitForData(containing: "still both")
    }

    @Test(.enabled(if: needsRoot)) func aclReplacedOrUnreadableMidSessionFailsClosed() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try AccessTests.Rig(acl: "nobody pbx rw\n")
        let acl = rig.env.root + "/access"
        // Replaced (rename over it, as an editor does) with a read-only grant: applied at reload.
        try "nobody pbx ro\n".write(toFile: acl + ".new", atomically: false, encoding: .utf8)
        try FileManager.default.moveItem(atPath: acl, toPath: acl + ".old")
        try FileManager.default.moveItem(atPath: acl + ".new", toPath: acl)
        rig.daemon.signal(SIGHUP)
        try rig.daemon.waitForLog("configuration reloaded")
        let watch = try rig.rttyAsNobody(["--timeout", "1", "pbx"], input: "typed\n")
        #expect(watch.stderr.contains("read-only"), "\(watch.stderr)")
        #expect(try !rig.guest.received("typed", beforeMarkerTypedOn: rig.env.socket("pbx")))
        // Unreadable: nobody but root gets in, and the daemon says why.
        chmod(acl, 0)
        try FileManager.default.removeItem(atPath: acl)
        rig.daemon.signal(SIGHUP)
        try rig.daemon.waitForLog("cannot read the ACL")
        let refused = try rig.rttyAsNobody(["--timeout", "1", "pbx"], input: "")
        #expect(refused.stderr.contains("access denied"), "\(refused.stderr)")
        #expect(rig.daemon.process.isRunning)
    }

    @Test(.enabled(if: needsRoot)) func fullLogFileSystemIsReportedAndConsolesKeepServing() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try SmallLogDiskRig(size: "64k")
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let client = try ProtocolClient(socket: env.socket("pbx"))
        try client.identify()
        let block = String(repeating: "0123456789abcdef", count: 64) + "\r\n"
        for _ in 0..<100 { try guest.write(block) }  // ~100 KiB: more than the file system holds
        try guest.write("served anyway\r\n")
        try client.waitForData(containing: "served anyway", timeout: 20)
        try daemon.waitForLog("cannot write")
        #expect(daemon.process.isRunning)
    }

    /// A disk that fills and frees again, several times, while sessions come and go and
    /// the console prints: every audit line is one whole JSON record (a short write once
    /// left half a record for the next to merge with), `rttyctl sessions` keeps working,
    /// and the console log never repeats output (a short write was retried from the start
    /// of its chunk).
    @Test(.enabled(if: needsRoot)) func aDiskThatFillsAndFreesLeavesWholeRecordsAndNoRepeats() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try SmallLogDiskRig(size: "256k")
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let filler = env.logDir + "/filler"
        var number = 0
        for round in 0..<8 {
            // The disk full to the last block, then sessions and output that do not fit.
            _ = try ProcessRun.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=1024"], input: "")
            for burst in 0..<6 {
                var text = ""
                for _ in 0..<4 {
                    text += "line \(number) " + String(repeating: "x", count: 40 + (round * 7 + burst * 13) % 60) + "\n"
                    number += 1
                }
                try guest.write(text)
                let client = try ProtocolClient(socket: env.socket("pbx"))
                try client.identify("r\(round)b\(burst)-" + String(repeating: "w", count: (round * 5 + burst * 11) % 40) + "@pts/3")
                try client.waitForNotice(containing: "connected")
            }
            try daemon.waitForLog("cannot write", timeout: 20)
            try FileManager.default.removeItem(atPath: filler)
            // The held output is written with the next output that comes (retried at most
            // once a second): the guest goes on printing, as consoles do.
            var tick = 0
            try waitUntil(timeout: 20, "the console log to work again; rttyd: \(daemon.stderr.suffix(1500))") {
                try guest.write("after \(round).\(tick)\n")
                tick += 1
                Thread.sleep(forTimeInterval: 0.2)
                return String(decoding: env.logContents("pbx"), as: UTF8.self).contains("after \(round).")
            }
        }
        let audit = env.logDir + "/audit.jsonl"
        let client = try ProtocolClient(socket: env.socket("pbx"))
        try client.identify("last@pts/3")
        try client.waitForNotice(containing: "connected")
        client.disconnect()
        try waitUntil(timeout: 10, "the last session's end record") {
            ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").split(separator: "\n").last?.contains("session-end") == true
        }
        let lines = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count > 40)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not one JSON record: \(line)")
        }
        let sessions = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["sessions", "--control", env.socketDir + "/control"], input: "")
        #expect(sessions.status == 0, "rttyctl sessions: \(sessions.stderr)")
        // What the console log holds was written once, in order.
        let numbers = String(decoding: env.logContents("pbx"), as: UTF8.self).split(separator: "\n").compactMap { line -> Int? in
            line.hasPrefix("line ") ? Int(line.split(separator: " ")[1]) : nil
        }
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count, "the console log repeats output: \(numbers)")
    }

    /// Not under a sanitizer: its runtime needs descriptors of its own.
    @Test(.enabled(if: !HostileClientTests.underSanitizer)) func outOfDescriptorsRefusesWithANoticeAuditsAndDoesNotSpin() throws {
        let env = try TestEnvironment()
        try env.writeConfig("[console.sh]\nexec = [\"/bin/cat\"]\n")
        let daemon = try DaemonProcess(env, launcher: ["/usr/bin/prlimit", "--nofile=48:48"])
        try daemon.waitForLog("rttyd running")
        try daemon.waitForLog("source open")
        let pid = daemon.process.processIdentifier  // prlimit execs rttyd: same process
        var sockets: [SystemPackage.FileDescriptor] = []
        defer { for fd in sockets { try? fd.close() } }
        for _ in 0..<80 { sockets.append(try UnixSocket.connect(path: env.socket("sh"))) }
        // Answers arrive over several polls; what each socket said so far is kept.
        var heard = [[UInt8]](repeating: [], count: sockets.count)
        var authorized: Int { heard.count { String(decoding: $0, as: UTF8.self).contains("authorized") } }
        var refused: Int { heard.count { String(decoding: $0, as: UTF8.self).contains("out of file descriptors") } }
        do {
            try waitUntil(timeout: 20, "every client to get an answer") {
                for (index, fd) in sockets.enumerated() where Poll.readable(fd, timeoutMilliseconds: 0) {
                    var buffer = [UInt8](repeating: 0, count: 256)
                    let n = (try? buffer.withUnsafeMutableBytes { try fd.read(into: $0) }) ?? 0
                    heard[index] += buffer.prefix(n)
                }
                return authorized + refused >= 70
            }
        } catch {
            Issue.record("\(error): \(authorized) authorized, \(refused) refused")
            throw error
        }
        #expect(refused > 0 && authorized > 0, "\(authorized) authorized, \(refused) refused")
        let before = Self.cpuTicks(pid)
        sleep(2)
        let spent = Self.cpuTicks(pid) - before
        #expect(spent < 100, "rttyd used \(spent) CPU ticks in 2 s while out of descriptors (spinning?)")
        try waitUntil(timeout: 5, "an audit line for the refusals") { Self.audit(env).contains("out of file descriptors") }
        for fd in sockets { try? fd.close() }
        sockets = []
        // And it recovers once descriptors are free again.
        let later = try ProtocolClient(socket: env.socket("sh"))
        try later.waitForNotice(containing: "authorized")
    }

    static func cpuTicks(_ pid: Int32) -> Int {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }
}

/// One pty console whose log directory is a small tmpfs of `size` (a disk that fills),
/// unmounted again when the rig goes. Root only.
final class SmallLogDiskRig {
    let env: TestEnvironment
    let guest: PtyGuest
    let daemon: DaemonProcess

    init(size: String) throws {
        env = try TestEnvironment()
        guest = try PtyGuest()
        try FileManager.default.createDirectory(atPath: env.logDir, withIntermediateDirectories: true)
        let mount = try ProcessRun.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", env.logDir], input: "")
        guard mount.status == 0 else { throw HarnessError("cannot mount a small tmpfs: \(mount.stderr)") }
        do {
            try env.writeConfig("[console.pbx]\ndevice = \"\(guest.devicePath)\"\n", defaults: "transcript = false")
            daemon = try DaemonProcess(env)
            try daemon.waitForLog("source open")
        } catch {
            _ = try? ProcessRun.run("/bin/umount", ["-l", env.logDir], input: "")
            throw error
        }
    }

    deinit { _ = try? ProcessRun.run("/bin/umount", ["-l", env.logDir], input: "") }
}

