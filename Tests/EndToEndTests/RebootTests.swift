import Foundation
import RTTYSystem
import Testing

/// A VM that reboots, or stays down for a while and comes back: its next boot must be in
/// the console log from its first line. The guest behaves as QEMU's `-serial
/// unix:PATH,server,nowait` does: it creates the socket when it starts, prints at once
/// and discards what it prints while no client is connected.
@Suite struct RebootTests {
    static let fakeQEMU = """
        import os, socket, sys, time
        path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
        if os.path.exists(path):
            os.unlink(path)
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen(1)
        server.setblocking(False)
        client = None
        def serve(text):
            global client
            if client is None:
                try:
                    client, _ = server.accept()
                except BlockingIOError:
                    return
            try:
                client.sendall(text.encode())
            except OSError:
                client = None
        time.sleep(0.2)  # firmware
        for n in range(count):
            serve(f"{tag} boot line {n}\\n")  # lost if nobody holds the console now
            time.sleep(0.02)
        serve(f"{tag} login: ")
        while True:
            time.sleep(1)
        """

    final class FakeGuest {
        let process: LiveProcess
        init(script: String, socket: String, tag: String, lines: Int) throws {
            process = try LiveProcess("/usr/bin/python3", [script, socket, tag, String(lines)])
        }
        /// Killed as a VM is destroyed: its socket stays behind, refusing connections,
        /// until the next start replaces it.
        func kill() throws {
            Glibc.kill(process.process.processIdentifier, SIGKILL)
            try process.waitForExit()
        }
    }

    func waitForLog(_ env: TestEnvironment, _ text: String, timeout: Double) throws {
        try waitUntil(timeout: timeout, "\"\(text)\" in the console log; it has \(String(decoding: env.logContents("vm7"), as: UTF8.self).debugDescription)") {
            String(decoding: env.logContents("vm7"), as: UTF8.self).contains(text)
        }
    }

    func bootText(_ tag: String, lines: Int) -> String {
        (0..<lines).map { "\(tag) boot line \($0)\n" }.joined() + "\(tag) login: "
    }

    @Test func aVMDownForFortySecondsHasItsNextBootLoggedFromTheFirstLine() throws {
        let env = try TestEnvironment()
        let script = env.root + "/fake-qemu.py"
        try Self.fakeQEMU.write(toFile: script, atomically: true, encoding: .utf8)
        let socket = env.root + "/vm7.serial"
        try env.writeConfig("[console.vm7]\nunix = \"\(socket)\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("cannot connect to \(socket)")
        var guest: FakeGuest? = try FakeGuest(script: script, socket: socket, tag: "first", lines: 20)
        try waitForLog(env, "first login: ", timeout: 20)
        #expect(String(decoding: env.logContents("vm7"), as: UTF8.self).contains("first boot line 0\n"))
        try guest?.kill()
        guest = nil
        try daemon.waitForLog("device lost")
        // Down long enough for the back-off to reach its longest step (30 s).
        Thread.sleep(forTimeInterval: 40)
        guest = try FakeGuest(script: script, socket: socket, tag: "second", lines: 50)
        try waitForLog(env, "second login: ", timeout: 60)
        let log = String(decoding: env.logContents("vm7"), as: UTF8.self)
        // Every byte of the second boot, from its first line, once.
        let start = log.range(of: "second boot line")?.lowerBound ?? log.endIndex
        #expect(String(log[start...]) == bootText("second", lines: 50), "log after the restart: \(log[start...].debugDescription)")
        _ = guest
    }

    /// A serial adapter unplugged for a while and plugged in again (its device link comes
    /// back, as /dev/serial/by-id links do): the console reopens it when it appears, not at
    /// the next back-off step (which after 10 s down is 5 s away), because a serial line
    /// nobody has open loses what the machine prints.
    @Test func aDeviceThatReappearsIsReopenedAtOnce() throws {
        let env = try TestEnvironment()
        let device = env.root + "/ttyUSB-by-id", guestSide = env.root + "/guest"
        let pair = Socat.ptyPair(device: device, guest: guestSide)
        var socat: Socat? = try Socat(pair)
        try waitUntil(timeout: 5, "socat's pty links") { FileManager.default.fileExists(atPath: device) }
        try env.writeConfig("[console.usb]\ndevice = \"\(device)\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        let client = try ProtocolClient(socket: env.socket("usb"))
        try client.identify()
        try client.waitForNotice(containing: "connected")
        socat?.stop()
        socat = nil
        try client.waitForNotice(containing: "device lost")
        Thread.sleep(forTimeInterval: 10)
        socat = try Socat(pair)
        try client.waitForNotice(containing: "device back", timeout: 3)
        _ = socat
    }
}
