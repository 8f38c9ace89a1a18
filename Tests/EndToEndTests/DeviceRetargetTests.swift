import Foundation
import RTTYSystem
import Testing

/// A device symlink retargeted while its console is down (issue 14, item 8): what the path
/// names is looked at before it is opened, so a FIFO (or a file, a socket) put in its
/// place is not opened at all; a tty that comes back is (RebootTests).
@Suite struct DeviceRetargetTests {
    @Test func aFIFOInPlaceOfTheDeviceIsNotOpened() throws {
        let env = try TestEnvironment()
        let device = env.root + "/ttyUSB-by-id", guestSide = env.root + "/guest"
        var socat: Socat? = try Socat(Socat.ptyPair(device: device, guest: guestSide))
        try waitUntil(timeout: 5, "socat's pty links") { FileManager.default.fileExists(atPath: device) }
        try env.writeConfig("[console.usb]\ndevice = \"\(device)\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        socat?.stop()
        socat = nil
        try daemon.waitForLog("device lost")
        try? FileManager.default.removeItem(atPath: device)
        #expect(mkfifo(env.root + "/fifo", 0o600) == 0)
        // A writer blocked in open() returns as soon as anyone opens the FIFO to read.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        writer.arguments = ["-c", "import os,sys; os.open(sys.argv[1], os.O_WRONLY); print('opened', flush=True)", env.root + "/fifo"]
        let out = Pipe()
        writer.standardOutput = out
        writer.standardError = FileHandle.nullDevice
        try writer.start()
        defer {
            // SIGKILL: the test runner's children may ignore SIGTERM.
            kill(writer.processIdentifier, SIGKILL)
            writer.reap(out)
        }
        try FileManager.default.createSymbolicLink(atPath: device, withDestinationPath: env.root + "/fifo")
        try daemon.waitForLog("a FIFO, not a terminal device; not opened")
        // The marker above comes after the attempt: had it opened the FIFO, the writer is free.
        Thread.sleep(forTimeInterval: 0.2)
        #expect(writer.isRunning, "the daemon opened the FIFO: \(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self))")
    }
}
