#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A Unix datagram socket that sends without waiting: the audit copy to syslog or the
/// journal. A receiver that is gone, stopped or slow makes `send` fail at once (EAGAIN,
/// ECONNREFUSED, ENOENT), never block.
public enum UnixDatagram {
    /// A socket for `send`, non-blocking and close-on-exec.
    public static func open() throws(SystemError) -> FileDescriptor {
        FileDescriptor(
            rawValue: try syscall("socket", "datagram") {
                socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            })
    }

    /// One datagram to the socket at `path`, whole or not at all.
    public static func send(_ bytes: [UInt8], on fd: FileDescriptor, to path: String) throws(SystemError) {
        guard path.utf8.count <= UnixSocket.maxPathBytes else {
            throw SystemError("send to", "\(path) (longer than \(UnixSocket.maxPathBytes) bytes)", .fileNameTooLong)
        }
        var address = try UnixSocket.socketAddress(path)
        try syscall("send to", path) {
            bytes.withUnsafeBytes { data in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd.rawValue, data.baseAddress, data.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                    }
                }
            }
        }
    }
}
