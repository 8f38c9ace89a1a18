import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The three kinds of console source, and losing and regaining them.
@Suite struct SourceTests {
    @Test func deviceLostAndBackKeepsClientsAttached() throws {
        let env = try TestEnvironment()
        let device = env.root + "/ttyV0", guestSide = env.root + "/guest"
        let pair = Socat.ptyPair(device: device, guest: guestSide)
        var socat: Socat? = try Socat(pair)
        try waitUntil(timeout: 5, "socat's pty links") {
            FileManager.default.fileExists(atPath: device) && FileManager.default.fileExists(atPath: guestSide)
        }
        try env.writeConfig("[console.vm]\ndevice = \"\(device)\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        let client = try ProtocolClient(socket: env.socket("vm"))
        try client.identify()
        try client.waitForNotice(containing: "connected")
        // The guest end stays open until socat is stopped: closing it would end socat.
        var guest: FileHandle?
        for round in 1...3 {
            socat?.stop()
            socat = nil
            try guest?.close()
            try client.waitForNotice(containing: "device lost")
            #expect(!client.closed)
            socat = try Socat(pair)
            try client.waitForNotice(containing: "device back", timeout: 20)
            // The console reopens its side as soon as that link appears, which may be before
            // socat has made the guest's.
            try waitUntil(timeout: 5, "socat's guest link") { FileManager.default.fileExists(atPath: guestSide) }
            guest = try FileHandle(forUpdating: URL(fileURLWithPath: guestSide))
            guest?.write("round \(round)\n".data(using: .utf8)!)
            try client.waitForData(containing: "round \(round)")
            client.clear()
        }
        let log = String(decoding: env.logContents("vm"), as: UTF8.self)
        #expect(log.contains("device lost"))
        #expect(log.contains("device back"))
        #expect(Files.isSocket(env.socket("vm")))
    }

    @Test func execConsoleRunsItsCommandUnderAPtyAndRerunsIt() throws {
        let env = try TestEnvironment()
        try env.writeConfig(
            """
            [console.cmd]
            exec = ["/bin/sh", "-c", "stty size; echo ready; read line; echo got:$line; exit 0"]
            rows = 33
            cols = 99
            """)
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(["cmd"])
        let client = try ProtocolClient(socket: env.socket("cmd"))
        try client.identify()
        try client.waitForData(containing: "ready")
        #expect(String(decoding: client.data, as: UTF8.self).contains("33 99"))
        // A client's window size outlives the command: the re-run starts with it.
        try client.send(.withPayload(.windowSize, [0, 50, 0, 132]))
        try client.type("hello\r")
        try client.waitForData(containing: "got:hello")
        try client.waitForNotice(containing: "device lost: command exited 0")
        // Re-run with back-off: the banner comes again.
        client.clear()
        try client.waitForData(containing: "ready", timeout: 15)
        #expect(String(decoding: client.data, as: UTF8.self).contains("50 132"), "\(String(decoding: client.data, as: UTF8.self).debugDescription)")
    }

    @Test func unixSocketConsoleReachesAQemuStyleSocket() throws {
        let env = try TestEnvironment()
        let vmSocket = env.root + "/vm.serial"
        let vm = try Socat(["UNIX-LISTEN:\(vmSocket),fork", "EXEC:/bin/cat"])
        try waitUntil(timeout: 5, "the VM socket") { Files.isSocket(vmSocket) }
        try env.writeConfig("[console.vm7]\nunix = \"\(vmSocket)\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        let client = try ProtocolClient(socket: env.socket("vm7"))
        try client.identify()
        try client.type("echo through the socket")
        try client.waitForData(containing: "echo through the socket")
        _ = vm
    }

    @Test func missingDeviceKeepsConsoleListedAndRetriesWithoutSpinning() throws {
        let env = try TestEnvironment()
        try env.writeConfig("[console.gone]\ndevice = \"\(env.root)/nothing-here\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(["gone"])
        let client = try ProtocolClient(socket: env.socket("gone"))
        try client.send(.withText(.hello, "rtty/1"))
        let hello = try client.waitForFrame { $0.kind == .hello }
        #expect(hello.text.contains("state=down"))
        // Idle CPU: over 2 s of retrying the daemon uses (almost) no CPU time.
        let before = try ProcessStat.cpuSeconds(daemon.process.processIdentifier)
        Thread.sleep(forTimeInterval: 2)
        let used = try ProcessStat.cpuSeconds(daemon.process.processIdentifier) - before
        #expect(used < 0.1, "rttyd used \(used) s of CPU in 2 s while its device was missing")
    }
}

enum ProcessStat {
    /// utime + stime of a process, from /proc/PID/stat.
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        guard let close = stat.lastIndex(of: ")") else { throw HarnessError("bad /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        let utime = Double(fields[11]) ?? 0, stime = Double(fields[12]) ?? 0
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
