import CRTTYShims
import SystemPackage

/// Who is at the other end of a connected Unix socket, as the kernel says (the effective
/// uid and gid at connect time; pid -1 where the kernel does not tell).
public struct PeerCredentials: Sendable, Equatable {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// The socket option that holds them, for APIs that read options by level and name
    /// (NIO's `SocketOptionProvider`, which hides the descriptor): SO_PEERCRED on Linux,
    /// LOCAL_PEERCRED on FreeBSD. Read it as a `RawOption`, then `init(decoding:)`.
    public static let socketOption: (level: Int32, name: Int32) = {
        let option = rtty_peercred_option()
        return (option.level, option.name)
    }()

    /// The platform's structure for that option (`struct ucred` or `struct xucred`).
    public typealias RawOption = rtty_peercred_raw

    /// Decodes the option the kernel filled in; the same code serves plain descriptors.
    public init(decoding raw: RawOption) throws(SystemError) {
        var raw = raw
        var pid: pid_t = 0, uid: uid_t = 0, gid: gid_t = 0
        try syscall("decode peer credentials", "") { rtty_peercred_decode(&raw, &pid, &uid, &gid) }
        self.init(pid: pid, uid: uid, gid: gid)
    }
}

public enum PeerCredentialsReader {
    /// Who is at the other end of a connected Unix socket descriptor.
    public static func read(socket fd: FileDescriptor) throws(SystemError) -> PeerCredentials {
        var pid: pid_t = 0, uid: uid_t = 0, gid: gid_t = 0
        try syscall("read peer credentials of", "fd \(fd.rawValue)") { rtty_peer_credentials(fd.rawValue, &pid, &uid, &gid) }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }
}
