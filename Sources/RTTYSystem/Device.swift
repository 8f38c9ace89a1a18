#if canImport(Glibc)
import Glibc
#endif
import CRTTYShims
import SystemPackage

public enum Device {
    /// Opens a console device: read-write, never as our controlling tty, non-blocking,
    /// and exclusive (TIOCEXCL: further opens fail with EBUSY, except by root).
    public static func open(_ path: String) throws(SystemError) -> FileDescriptor {
        let raw = try syscall("open", path) { Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) }
        let fd = FileDescriptor(rawValue: raw)
        guard isatty(raw) == 1 else {
            try? fd.close()
            throw SystemError("open", path + " (not a terminal)", .inappropriateIOCTLForDevice)
        }
        do throws(SystemError) {
            try syscall("lock (TIOCEXCL)", path) { ioctl(raw, UInt(TIOCEXCL)) }
        } catch {
            try? fd.close()
            throw error
        }
        return fd
    }
}

public struct PtyPair: Sendable {
    public let master: FileDescriptor
    public let slave: FileDescriptor
    public let slavePath: String
}

public enum Pty {
    /// A new pty pair, both ends close-on-exec from birth (for tests and tools; exec
    /// consoles get theirs inside `Spawn.underPty`, from the same C function).
    public static func open() throws(SystemError) -> PtyPair {
        var master: CInt = -1, slave: CInt = -1
        try syscall("open a pty") { rtty_open_pty(&master, &slave) }
        // ttyname(3) shares one buffer between threads; ttyname_r does not.
        var name = [CChar](repeating: 0, count: 256)
        let status = ttyname_r(slave, &name, name.count)
        guard status == 0 else {
            close(master)
            close(slave)
            throw SystemError("ttyname", "pty", Errno(rawValue: status))
        }
        return PtyPair(
            master: FileDescriptor(rawValue: master), slave: FileDescriptor(rawValue: slave),
            slavePath: String(cStringBytes: name))
    }
}

extension String {
    /// A C string held in a fixed buffer, up to its first NUL.
    init(cStringBytes buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
