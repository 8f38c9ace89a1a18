#if os(FreeBSD)
import Glibc
import SystemPackage

/// FreeBSD: speed_t is the rate itself, so every rate the driver accepts is "standard".
/// Consoles are /dev/cuau* (serial), /dev/cuaU* (USB) and /dev/nmdm*A|B (bhyve).
enum PlatformSpeed {
    static let placeholder = speed_t(9600)
    static func standard(_ rate: Int) -> speed_t? { speed_t(rate) }
}

enum PlatformFiles {
    static let openFilesLimit = RLIMIT_NOFILE
    /// One entry per open descriptor (ProcessStats).
    static let descriptorDirectory = "/dev/fd"  // fdescfs mounted; without it only 0-2 show

    /// fdescfs's /dev/fd/N is a dup (the same open file description), so no private copy.
    static func reopen(_ fd: Int32) -> Int32 { -1 }

    /// Where the installed configuration lives (ports install under /usr/local).
    static let configDirectory = "/usr/local/etc/rtty"
}

/// Not written for FreeBSD yet (kern.proc.pid's ki_comm would say): nothing known, so a
/// pid file naming any live process is taken to be a running rttyd, as before.
enum PlatformProcess {
    static func programName(_ pid: Int32) -> String? { nil }
    static func executable(_ pid: Int32) -> String? { nil }
}

/// FreeBSD: pty slaves have no major of their own; devfs names them pts/N.
enum PlatformDevice {
    static func isPtySlave(_ rdev: UInt64) -> Bool {
        var name = [CChar](repeating: 0, count: 64)
        guard devname_r(dev_t(rdev), S_IFCHR, &name, Int32(name.count)) != nil else { return false }
        return String(cStringBytes: name).hasPrefix("pts/")
    }
}

enum PlatformIdentity {
    /// issetugid(2): set-id at exec, or ids changed since.
    static var isSecureExecution: Bool { issetugid() != 0 }
}
/// kqueue can report directory changes (EVFILT_VNODE, NOTE_WRITE on an open directory)
/// but not which entry changed; not written yet: the back-off timer retries alone.
enum PlatformWatch {
    static func open() -> FileDescriptor? { nil }
    static func add(_ fd: FileDescriptor, _ directory: String) throws(SystemError) -> Int32 {
        throw SystemError("watch", directory, .notSupported)
    }
    static func remove(_ fd: FileDescriptor, _ watch: Int32) {}
    static func events(in bytes: UnsafeRawBufferPointer) -> [DirectoryWatch.Event] { [] }
}
#endif
