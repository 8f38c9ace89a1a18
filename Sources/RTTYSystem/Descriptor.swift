#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Every descriptor the daemon makes is close-on-exec from birth: a program it starts
/// must never inherit a device, a client's socket or a listener (docs/SECURITY.md).
extension FileDescriptor {
    /// A new descriptor for the same open file, close-on-exec (F_DUPFD_CLOEXEC; a plain
    /// dup(2) is not).
    public func duplicateCloseOnExec() throws(SystemError) -> FileDescriptor {
        FileDescriptor(rawValue: try syscall("duplicate", "fd \(rawValue)") { fcntl(rawValue, F_DUPFD_CLOEXEC, 0) })
    }

    /// Whether the descriptor closes on exec; false also for one that is not open.
    public var isCloseOnExec: Bool {
        guard let flags = try? syscall("fcntl", "fd \(rawValue)", { fcntl(rawValue, F_GETFD) }) else { return false }
        return flags & FD_CLOEXEC != 0
    }
}
