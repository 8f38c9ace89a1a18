#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

public enum Poll {
    /// Waits until `fd` has something to read (or hung up); false on timeout.
    public static func readable(_ fd: FileDescriptor, timeoutMilliseconds: Int) -> Bool {
        wait(fd, for: POLLIN, timeoutMilliseconds: timeoutMilliseconds) != nil
    }

    /// Waits until `fd` can take more bytes; false on timeout.
    public static func writable(_ fd: FileDescriptor, timeoutMilliseconds: Int) -> Bool {
        (wait(fd, for: POLLOUT, timeoutMilliseconds: timeoutMilliseconds) ?? 0) & Int16(POLLOUT) != 0
    }

    /// The events poll(2) reported for `fd` (hang-up and errors included), nil on timeout.
    private static func wait(_ fd: FileDescriptor, for events: Int32, timeoutMilliseconds: Int) -> Int16? {
        var entry = pollfd(fd: fd.rawValue, events: Int16(events), revents: 0)
        // A signal restarts the wait with the whole timeout (the callers wait for a peer's
        // answer; a little longer is harmless).
        let ready = (try? syscall("poll", "fd \(fd.rawValue)") { poll(&entry, 1, Int32(timeoutMilliseconds)) }) ?? 0
        return ready > 0 ? entry.revents : nil
    }
}
