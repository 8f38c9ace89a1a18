import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage

/// The "machine" behind a device console: the master side of a pty whose slave path the
/// daemon opens as its device.
final class PtyGuest: @unchecked Sendable {
    let pair: PtyPair
    private(set) var received: [UInt8] = []

    init() throws {
        pair = try Pty.open()
        // Raw from the start: no echo or line editing before the daemon configures it.
        _ = try Termios.makeRaw(pair.slave)
    }

    deinit {
        try? pair.master.close()
        try? pair.slave.close()
    }

    var devicePath: String { pair.slavePath }

    /// Whether this kernel's ptys take parity and word-size changes (Linux 6.x refuses them).
    static func acceptsParity() -> Bool {
        guard let probe = try? Pty.open() else { return false }
        defer {
            try? probe.master.close()
            try? probe.slave.close()
        }
        guard (try? Termios.configureLine(probe.slave, LineSettings(baud: 9600, dataBits: 7, parity: .even))) != nil else { return false }
        return (try? Termios.currentSettings(probe.slave).parity) == .even
    }

    var receivedText: String { String(decoding: received, as: UTF8.self) }

    /// The slave stays open in this process too so the pty survives until the daemon opens
    /// it; `releaseSlave` drops it when a test needs the daemon to be the only holder.
    func releaseSlave() { try? pair.slave.close() }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            var pfd = pollfd(fd: pair.master.rawValue, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, 1000)
            do {
                offset += try bytes[offset...].withUnsafeBytes { try pair.master.write($0) }
            } catch Errno.resourceTemporarilyUnavailable {
                continue
            }
        }
    }

    /// Reads what the daemon wrote to the device until `text` appears or time runs out.
    func waitFor(_ text: String, timeout: Double = 10) throws {
        let needle = Array(text.utf8)
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !received.contains(subsequence: needle) {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw HarnessError("device never received \"\(text)\"; got \(String(decoding: received, as: UTF8.self).debugDescription)")
            }
            var pfd = pollfd(fd: pair.master.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(remaining, 0.2) * 1000)) > 0 else { continue }
            let n = (try? chunk.withUnsafeMutableBytes { try pair.master.read(into: $0) }) ?? 0
            if n > 0 { received.append(contentsOf: chunk.prefix(n)) }
        }
    }
}
