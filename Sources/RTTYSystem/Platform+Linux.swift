#if os(Linux)
import CRTTYShims
import Glibc
import SystemPackage

/// Linux: speed_t is a code from the B* table; other rates need termios2/BOTHER (C shim).
enum PlatformSpeed {
    static let placeholder = speed_t(B38400)

    private static let table: [Int: speed_t] = [
        50: speed_t(B50), 75: speed_t(B75), 110: speed_t(B110), 134: speed_t(B134), 150: speed_t(B150),
        200: speed_t(B200), 300: speed_t(B300), 600: speed_t(B600), 1200: speed_t(B1200),
        1800: speed_t(B1800), 2400: speed_t(B2400), 4800: speed_t(B4800), 9600: speed_t(B9600),
        19200: speed_t(B19200), 38400: speed_t(B38400), 57600: speed_t(B57600),
        115200: speed_t(B115200), 230400: speed_t(B230400), 460800: speed_t(B460800),
        500000: speed_t(B500000), 576000: speed_t(B576000), 921600: speed_t(B921600),
        1000000: speed_t(B1000000), 1152000: speed_t(B1152000), 1500000: speed_t(B1500000),
        2000000: speed_t(B2000000), 2500000: speed_t(B2500000), 3000000: speed_t(B3000000),
        3500000: speed_t(B3500000), 4000000: speed_t(B4000000),
    ]

    static func standard(_ rate: Int) -> speed_t? { table[rate] }
}

enum PlatformFiles {
    static let openFilesLimit = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    /// One entry per open descriptor (ProcessStats).
    static let descriptorDirectory = "/proc/self/fd"

    /// /proc/self/fd/N opens the pipe or tty behind N anew: a new open file description.
    /// (Sockets cannot be opened this way: ENXIO.)
    static func reopen(_ fd: Int32) -> Int32 {
        (try? syscall("reopen", "fd \(fd)") { open("/proc/self/fd/\(fd)", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC) }) ?? -1
    }

    /// Where the installed configuration lives.
    static let configDirectory = "/etc/rtty"
}

/// Linux: /proc names every live process's program (comm: the file name it was run as,
/// at most 15 bytes) and executable.
enum PlatformProcess {
    static func programName(_ pid: Int32) -> String? {
        guard let text = try? TextFile.read("/proc/\(pid)/comm") else { return nil }
        return String(text.prefix { $0 != "\n" })
    }

    static func executable(_ pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = (try? syscall("readlink", "/proc/\(pid)/exe") { readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1) }) ?? 0
        return n > 0 ? String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}

/// Linux: Unix98 pty slaves (/dev/pts/N) have majors 136-143 (UNIX98_PTY_SLAVE_MAJOR and
/// the seven after it, devices.txt); glibc's major() is a macro Swift does not import.
enum PlatformDevice {
    static func isPtySlave(_ rdev: UInt64) -> Bool {
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff))
        return (136...143).contains(major)
    }
}

enum PlatformIdentity {
    /// AT_SECURE: also set for file capabilities and LSM transitions, where the ids agree.
    static var isSecureExecution: Bool { rtty_at_secure() != 0 }
}
/// inotify: IN_CREATE, IN_MOVED_TO and IN_ATTRIB per directory; each event names its entry.
enum PlatformWatch {
    static func open() -> FileDescriptor? {
        (try? syscall("inotify_init1") { inotify_init1(Int32(IN_CLOEXEC)) }).map { FileDescriptor(rawValue: $0) }
    }

    static func add(_ fd: FileDescriptor, _ directory: String) throws(SystemError) -> Int32 {
        try syscall("watch", directory) {
            inotify_add_watch(fd.rawValue, directory, UInt32(IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR))
        }
    }

    static func remove(_ fd: FileDescriptor, _ watch: Int32) {
        _ = inotify_rm_watch(fd.rawValue, watch)
    }

    static func events(in bytes: UnsafeRawBufferPointer) -> [DirectoryWatch.Event] {
        // struct inotify_event: wd, mask, cookie, len (4 bytes each), then len bytes of name.
        var events: [DirectoryWatch.Event] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let watch = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let end = min(bytes.count, offset + 16 + length)
            let name = String(decoding: bytes[(offset + 16)..<end].prefix { $0 != 0 }, as: UTF8.self)
            events.append(DirectoryWatch.Event(watch: watch, name: name))
            offset = end
        }
        return events
    }
}
#endif
