#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// BREAK as two non-blocking halves, so the daemon can hold the line low for a while
/// without blocking its event loop the way tcsendbreak(3) does.
public enum LineBreak {
    public static func start(_ fd: FileDescriptor) throws(SystemError) {
        try syscall("start BREAK on", "fd \(fd.rawValue)") { ioctl(fd.rawValue, UInt(TIOCSBRK)) }
    }

    public static func stop(_ fd: FileDescriptor) {
        _ = try? syscall("stop BREAK on", "fd \(fd.rawValue)") { ioctl(fd.rawValue, UInt(TIOCCBRK)) }
    }
}
