#if canImport(Glibc)
import Glibc
#endif
import CRTTYShims
import SystemPackage

public enum UnixSocket {
    /// Listens on `path` with the given group and mode, never more open than that: the
    /// socket is bound inside a fresh 0700 directory next to `path`, given its group and
    /// mode there, then renamed into place (which also replaces a stale socket left by a
    /// crash). A socket some live process still answers on, or a non-socket file, is
    /// refused. The descriptor is non-blocking and close-on-exec.
    public static func listen(path: String, group: UInt32?, mode: UInt16) throws(SystemError) -> FileDescriptor {
        try checkLength(path)
        if Files.exists(path) {
            guard Files.isSocket(path) else {
                throw SystemError("listen on", "\(path) (exists and is not a socket; remove it)", .fileExists)
            }
            if let live = try? connect(path: path) {
                try? live.close()
                throw SystemError("listen on", "\(path) (another daemon is serving it)", .addressInUse)
            }
        }
        let parent = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        var template = Array((parent + "/.rtty-bind-XXXXXX").utf8CString)
        let made = try syscallPointer("mkdtemp in", parent) { mkdtemp(&template) }
        let privateDir = String(cString: made)
        let staging = privateDir + "/s"
        defer {
            Files.removeFile(staging)
            _ = try? syscall("rmdir", privateDir) { rmdir(privateDir) }
        }
        let raw = try syscall("socket", path) {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }
        let fd = FileDescriptor(rawValue: raw)
        do throws(SystemError) {
            var address = try socketAddress(staging)
            try syscall("bind", staging) {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(raw, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            if let group {
                try syscall("chown", "\(staging) to group \(group)") { chown(staging, uid_t.max, group) }
            }
            try syscall("chmod", staging) { chmod(staging, mode_t(mode)) }
            try syscall("listen", path) { Glibc.listen(raw, 128) }
            try Files.rename(staging, to: path)
        } catch {
            try? fd.close()
            throw error
        }
        return fd
    }

    /// A blocking connection to a Unix stream socket.
    public static func connect(path: String) throws(SystemError) -> FileDescriptor {
        try checkLength(path)
        let raw = try syscall("socket", path) { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var address = try socketAddress(path)
        do throws(SystemError) {
            try syscall("connect to", path) {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(raw, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
        } catch {
            Files.closeQuietly(raw)
            throw error
        }
        return FileDescriptor(rawValue: raw)
    }

    /// One connection waiting on a listening socket, non-blocking and close-on-exec from
    /// birth; nil when nobody is waiting.
    public static func accept(from listener: FileDescriptor) throws(SystemError) -> FileDescriptor? {
        do throws(SystemError) {
            return FileDescriptor(rawValue: try syscall("accept on", "fd \(listener.rawValue)") { rtty_accept(listener.rawValue) })
        } catch where error.errno == .resourceTemporarilyUnavailable || error.errno == .wouldBlock {
            return nil
        }
    }

    /// Sends what the socket takes now without waiting (MSG_DONTWAIT, so the descriptor
    /// stays blocking for everyone else; MSG_NOSIGNAL: a closed peer is an error, not a
    /// SIGPIPE): the number of bytes taken, 0 when its buffer is full.
    public static func sendAvailable(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        do throws(SystemError) {
            return try syscall("send on", "fd \(fd.rawValue)") { send(fd.rawValue, base, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)) }
        } catch where error.errno == .resourceTemporarilyUnavailable || error.errno == .wouldBlock {
            return 0
        }
    }

    /// Removes a socket node (never any other kind of file).
    public static func remove(path: String) {
        if Files.isSocket(path) { Files.removeFile(path) }
    }

    /// The longest path a Unix socket address holds (sun_path less its NUL).
    public static var maxPathBytes: Int { MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1 }

    private static func checkLength(_ path: String) throws(SystemError) {
        guard path.utf8.count <= maxPathBytes else {
            throw SystemError("use socket path", "\(path) (longer than \(maxPathBytes) bytes)", .fileNameTooLong)
        }
    }

    static func socketAddress(_ path: String) throws(SystemError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}
