#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

public enum Poll {
    /// Waits until `fd` has something to read (or hung up); false on timeout.
    public static func readable(_ fd: FileDescriptor, timeoutMilliseconds: Int) -> Bool {
        var entry = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
        while true {
            let n = poll(&entry, 1, Int32(timeoutMilliseconds))
            if n < 0 && errno == EINTR { continue }
            return n > 0
        }
    }

    /// Waits until `fd` can take more bytes; false on timeout.
    public static func writable(_ fd: FileDescriptor, timeoutMilliseconds: Int) -> Bool {
        var entry = pollfd(fd: fd.rawValue, events: Int16(POLLOUT), revents: 0)
        while true {
            let n = poll(&entry, 1, Int32(timeoutMilliseconds))
            if n < 0 && errno == EINTR { continue }
            return n > 0 && entry.revents & Int16(POLLOUT) != 0
        }
    }
}
