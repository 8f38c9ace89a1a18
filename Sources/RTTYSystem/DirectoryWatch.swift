#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Tells when an entry appears in a directory (a VM's serial socket, a USB serial node),
/// so that a console whose source is missing reopens it at once instead of at the next
/// back-off step. One instance watches many directories (Linux: one inotify descriptor,
/// one watch per directory), so a thousand missing sources cost one descriptor.
public struct DirectoryWatch: Sendable {
    public struct Event: Equatable, Sendable {
        /// Which `add` it belongs to.
        public let watch: Int32
        public let name: String
    }

    private let fd: FileDescriptor

    /// Nil where the platform has no such watch (FreeBSD, for now): callers then retry on
    /// their timers alone.
    public init?() {
        guard let fd = PlatformWatch.open() else { return nil }
        self.fd = fd
    }

    /// Starts watching `directory` for entries created, moved in or changed (owner, mode).
    /// Adding a directory already watched returns its id again.
    public func add(_ directory: String) throws(SystemError) -> Int32 {
        try PlatformWatch.add(fd, directory)
    }

    public func remove(_ watch: Int32) {
        PlatformWatch.remove(fd, watch)
    }

    /// Blocks until events arrive (run it on its own thread); empty on an error.
    public func next() -> [Event] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { (try? fd.read(into: $0, retryOnInterrupt: true)) ?? -1 }
        guard n > 0 else { return [] }
        return buffer.withUnsafeBytes { PlatformWatch.events(in: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
    }
}
