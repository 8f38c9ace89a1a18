#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

public enum Poll {
    /// Waits until `fd` has something to read (or hung up); false on timeout.
    public static func readable(_ fd: FileDescriptor, timeoutMilliseconds: Int) -> Bool {
        wait(fd, for: POLLIN, timeoutMilliseconds: timeoutMilliseconds) != nil
    }

    /// Waits until any of `fds` has something to read (or hung up): for each, whether it
    /// does; all false on timeout.
    public static func readable(_ fds: [FileDescriptor], timeoutMilliseconds: Int) -> [Bool] {
        wait(fds.map { ($0, false) }, timeoutMilliseconds: timeoutMilliseconds).map(\.readable)
    }

    public struct Readiness: Equatable, Sendable {
        /// Something to read, or the peer hung up (a read says which).
        public let readable: Bool
        /// The descriptor takes more bytes (only when asked for).
        public let writable: Bool
    }

    /// Waits until any of `fds` has something to read (or hung up) or, where `write` is
    /// set, can take more bytes: for each, which; all false on timeout.
    public static func wait(_ fds: [(fd: FileDescriptor, write: Bool)], timeoutMilliseconds: Int) -> [Readiness] {
        var entries = fds.map { pollfd(fd: $0.fd.rawValue, events: Int16(POLLIN) | ($0.write ? Int16(POLLOUT) : 0), revents: 0) }
        let ready = (try? syscall("poll", "\(fds.count) descriptors") { poll(&entries, nfds_t(entries.count), Int32(timeoutMilliseconds)) }) ?? 0
        return entries.map { entry in
            let events = ready > 0 ? entry.revents : 0
            return Readiness(readable: events & ~Int16(POLLOUT) != 0, writable: events & Int16(POLLOUT) != 0)
        }
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
