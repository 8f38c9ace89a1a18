import Foundation
import RTTYSystem

/// One daemon with one device console backed by a pty guest: most tests' starting point.
struct PtyConsoleRig {
    let env: TestEnvironment
    let guest: PtyGuest
    let daemon: DaemonProcess

    init(console: String = "pbx", extra: String = "", defaults: String = "", launcher: [String] = []) throws {
        env = try TestEnvironment()
        guest = try PtyGuest()
        try env.writeConfig(
            """
            [console.\(console)]
            device = "\(guest.devicePath)"
            baud = 115200
            \(extra)
            """, defaults: defaults)
        daemon = try DaemonProcess(env, launcher: launcher)
        try daemon.waitForSockets([console])
        try daemon.waitForLog("source open")
    }

    func client(_ console: String = "pbx", who: String = "tester@pts/9") throws -> ProtocolClient {
        let client = try ProtocolClient(socket: env.socket(console))
        try client.waitForNotice(containing: "authorized")
        try client.identify(who)
        // The daemon names the verified user, keeping the tty part: wait until it has
        // seen us, so later broadcasts are sure to include this client.
        try client.waitForNotice(containing: "@" + who.split(separator: "@").last! + " connected")
        return client
    }
}
