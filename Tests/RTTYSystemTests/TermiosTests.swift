import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage
import Testing

/// Real ptys and real termios: what the daemon sets is what the driver holds.
@Suite struct TermiosTests {
    @Test(arguments: [9600, 115_200, 250_000, 1_000_000])
    func speedRoundTripsThroughTheDriver(baud: Int) throws {
        let pty = try Pty.open()
        defer { try? pty.master.close(); try? pty.slave.close() }
        try Termios.configureLine(pty.slave, LineSettings(baud: baud, stopBits: 2))
        let back = try Termios.currentSettings(pty.slave)
        #expect(back.baud == baud)
        #expect(back.stopBits == 2)
        // An independent reader agrees: stty(1) on the same tty. It goes through glibc's
        // speed_t table, so it can only show rates from that table (250000 shows as 0).
        if baud != 250_000 {
            let stty = try run("/bin/stty", ["-F", pty.slavePath, "speed"])
            #expect(stty.trimmingCharacters(in: .whitespacesAndNewlines) == "\(baud)")
        }
    }

    /// A custom rate and back: both speeds follow, not only the output one (the input
    /// speed used to stay at the custom rate).
    @Test func inputSpeedFollowsBackFromACustomRate() throws {
        let pty = try Pty.open()
        defer { try? pty.master.close(); try? pty.slave.close() }
        for baud in [250_000, 9600, 1_000_000, 115_200, 250_000, 250_000, 38_400] {
            try Termios.configureLine(pty.slave, LineSettings(baud: baud))
            #expect(try Termios.currentSettings(pty.slave).baud == baud)
            #expect(try Termios.inputSpeed(pty.slave) == baud, "input speed after setting \(baud)")
        }
    }

    @Test func flowControlRoundTrips() throws {
        let pty = try Pty.open()
        defer { try? pty.master.close(); try? pty.slave.close() }
        for flow in LineSettings.Flow.allCases {
            try Termios.configureLine(pty.slave, LineSettings(baud: 9600, flow: flow))
            #expect(try Termios.currentSettings(pty.slave).flow == flow)
        }
    }

    @Test func breakHalvesWorkOnAPty() throws {
        let pty = try Pty.open()
        defer { try? pty.master.close(); try? pty.slave.close() }
        try LineBreak.start(pty.slave)
        LineBreak.stop(pty.slave)
    }

    /// The daemon treats both answers as the device going away: EIO, or end of file
    /// (what a hung-up tty returns on recent kernels).
    @Test func readingASlaveWhoseMasterClosedIsAHangUp() throws {
        let pty = try Pty.open()
        try pty.master.close()
        var byte = [UInt8](repeating: 0, count: 1)
        do {
            let n = try byte.withUnsafeMutableBytes { try pty.slave.read(into: $0) }
            #expect(n == 0)
        } catch {
            #expect((error as? Errno) == .ioError)
        }
        try pty.slave.close()
    }

    @Test func windowSizeIsSetAndReadBack() throws {
        let pty = try Pty.open()
        defer { try? pty.master.close(); try? pty.slave.close() }
        try Termios.setWindowSize(pty.master, rows: 42, cols: 120)
        #expect(Termios.windowSize(pty.slave)?.rows == 42)
        #expect(Termios.windowSize(pty.slave)?.cols == 120)
    }
}

@Suite struct DeviceTests {
    @Test func opensAPtyExclusively() throws {
        let pty = try Pty.open()
        defer { try? pty.master.close(); try? pty.slave.close() }
        let fd = try Device.open(pty.slavePath)
        defer { try? fd.close() }
        #expect(Termios.isTerminal(fd))
        // TIOCEXCL: a second open fails with EBUSY, except for root, whom the kernel lets in.
        if ProcessIdentity.isRoot {
            let second = try Device.open(pty.slavePath)
            try second.close()
        } else {
            #expect(throws: SystemError.self) { try Device.open(pty.slavePath) }
        }
    }

    @Test func refusesWhatIsNotATerminal() {
        do {
            _ = try Device.open("/dev/null")
            Issue.record("/dev/null was accepted as a console device")
        } catch {
            #expect(error.description.contains("/dev/null"))
            #expect(error.description.contains("not a terminal"))
        }
    }

    @Test func missingDeviceNamesThePath() {
        do {
            _ = try Device.open("/dev/rtty-no-such-device")
            Issue.record("a missing device opened")
        } catch {
            #expect(error.errno == .noSuchFileOrDirectory)
            #expect(error.description.contains("/dev/rtty-no-such-device"))
        }
    }
}

func run(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

@Suite struct DeviceNodeTests {
    @Test func onlyACharacterDeviceIsOpened() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rtty-node-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/fifo")
        #expect(try Device.node(dir + "/link") == .other(kind: "a FIFO"))
        do {
            _ = try Device.open(dir + "/link")
            Issue.record("a FIFO behind a link was opened")
        } catch {
            #expect(error.description.contains("a FIFO, not a terminal device; not opened"), "\(error)")
        }
        let pty = try Pty.open()
        defer {
            try? pty.master.close()
            try? pty.slave.close()
        }
        guard case .characterDevice(let rdev) = try Device.node(pty.slavePath) else {
            Issue.record("a pty is not a character device")
            return
        }
        #expect(Device.rdev(pty.slave) == rdev)
    }
}
