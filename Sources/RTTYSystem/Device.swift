#if canImport(Glibc)
import Glibc
#endif
import CRTTYShims
import SystemPackage

public enum Device {
    /// Opens a console device: read-write, never as our controlling tty, non-blocking,
    /// and exclusive (TIOCEXCL: further opens fail with EBUSY, except by root).
    ///
    /// The path (often a symlink such as /dev/serial/by-id/...) is looked at before it is
    /// opened: what it names now must be a character device, or it is not opened at all
    /// (opening a FIFO, a regular file or a socket an attacker put there has effects of its
    /// own), and the descriptor opened must be that same device (the link was not moved in
    /// between). `rdev` gives the device number, to compare with the last open.
    public static func open(_ path: String) throws(SystemError) -> FileDescriptor {
        let named = try node(path)
        guard case .characterDevice(let expected) = named else {
            throw SystemError("open", "\(path) (\(named), not a terminal device; not opened)", .inappropriateIOCTLForDevice)
        }
        let raw = try syscall("open", path) { Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) }
        let fd = FileDescriptor(rawValue: raw)
        guard rdev(fd) == expected else {
            try? fd.close()
            throw SystemError("open", path + " (changed while it was opened)", .resourceBusy)
        }
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

extension Device {
    /// What a path names now, symlinks followed.
    public enum Node: Equatable, Sendable, CustomStringConvertible {
        case characterDevice(rdev: UInt64)
        case other(kind: String)

        public var description: String {
            switch self {
            case .characterDevice(let rdev): "character device 0x\(String(rdev, radix: 16))"
            case .other(let kind): kind
            }
        }
    }

    public static func node(_ path: String) throws(SystemError) -> Node {
        var st = stat()
        try syscall("stat", path) { stat(path, &st) }
        switch st.st_mode & S_IFMT {
        case S_IFCHR: return .characterDevice(rdev: UInt64(st.st_rdev))
        case S_IFREG: return .other(kind: "a regular file")
        case S_IFDIR: return .other(kind: "a directory")
        case S_IFIFO: return .other(kind: "a FIFO")
        case S_IFSOCK: return .other(kind: "a socket")
        case S_IFBLK: return .other(kind: "a block device")
        default: return .other(kind: "not a device")
        }
    }

    /// The device number of an open descriptor (nil if it is not a character device).
    public static func rdev(_ fd: FileDescriptor) -> UInt64? {
        guard let st = Files.status(fd.rawValue), st.st_mode & S_IFMT == S_IFCHR else { return nil }
        return UInt64(st.st_rdev)
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
        do throws(SystemError) {
            try syscallStatus("ttyname", "pty") { ttyname_r(slave, &name, name.count) }
        } catch {
            Files.closeQuietly(master)
            Files.closeQuietly(slave)
            throw error
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
