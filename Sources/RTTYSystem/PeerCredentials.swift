import CRTTYShims
import SystemPackage

public struct PeerCredentials: Sendable, Equatable {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32
}

public enum PeerCredentialsReader {
    /// Who is at the other end of a connected Unix socket, as the kernel says.
    public static func read(socket fd: FileDescriptor) throws(SystemError) -> PeerCredentials {
        var pid: pid_t = 0, uid: uid_t = 0, gid: gid_t = 0
        try syscall("read peer credentials of", "fd \(fd.rawValue)") { rtty_peer_credentials(fd.rawValue, &pid, &uid, &gid) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }
}
