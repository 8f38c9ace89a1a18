#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// The modem-control lines of a serial port (TIOCMGET/TIOCMBIS/TIOCMBIC). Ptys and many
/// USB adapters have none; callers treat a failure as "not supported".
public enum ModemLines {
    public struct State: Equatable, Sendable {
        public var dtr, rts, cts, dsr, carrier, ring: Bool
    }

    public static func get(_ fd: FileDescriptor) -> State? {
        var bits: Int32 = 0
        guard (try? syscall("read modem lines of", "fd \(fd.rawValue)", { ioctl(fd.rawValue, UInt(TIOCMGET), &bits) })) != nil else { return nil }
        return State(
            dtr: bits & TIOCM_DTR != 0, rts: bits & TIOCM_RTS != 0, cts: bits & TIOCM_CTS != 0,
            dsr: bits & TIOCM_DSR != 0, carrier: bits & TIOCM_CAR != 0, ring: bits & TIOCM_RNG != 0)
    }

    /// Raises or drops DTR or RTS; false if the device has no such line.
    @discardableResult
    public static func set(_ fd: FileDescriptor, dtr: Bool? = nil, rts: Bool? = nil) -> Bool {
        var ok = true
        for (wanted, bit) in [(dtr, TIOCM_DTR), (rts, TIOCM_RTS)] {
            guard let wanted else { continue }
            var mask = Int32(bit)
            if (try? syscall("set modem lines of", "fd \(fd.rawValue)", { ioctl(fd.rawValue, UInt(wanted ? TIOCMBIS : TIOCMBIC), &mask) })) == nil { ok = false }
        }
        return ok
    }

    /// Discards what is queued: input (received, not read), output (written, not sent), or both.
    public static func purge(_ fd: FileDescriptor, input: Bool, output: Bool) {
        let queue = input && output ? TCIOFLUSH : input ? TCIFLUSH : TCOFLUSH
        _ = try? syscall("tcflush", "fd \(fd.rawValue)") { tcflush(fd.rawValue, queue) }
    }
}
