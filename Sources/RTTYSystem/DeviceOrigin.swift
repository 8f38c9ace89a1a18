#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// What a device path leads to now, looked at before it is opened: the device, its owner,
/// whether it is a pty slave, and the path's own symlink if it is one (which socat's
/// `link=` makes anew for each pty). The rule for pty slaves is the daemon's
/// (`PtyAdmission`); this only gathers the facts and opens what was admitted.
public struct DeviceOrigin: Equatable, Sendable {
    /// The configured path itself when it is a symlink: which link (made anew or the same
    /// one as before) and whose.
    public struct Link: Equatable, Sendable {
        public let device: UInt64
        public let inode: UInt64
        /// ctime in nanoseconds: an inode number can be reused by a link made anew.
        public let changed: Int64
        public let owner: UInt32
    }

    public let link: Link?
    public let rdev: UInt64
    public let owner: UInt32
    public let isPtySlave: Bool

    /// Nil when the path does not lead to a character device now (`Device.open` says why).
    public init?(_ path: String) {
        guard let st = Files.status(path), st.st_mode & S_IFMT == S_IFCHR else { return nil }
        rdev = UInt64(st.st_rdev)
        owner = st.st_uid
        isPtySlave = PlatformDevice.isPtySlave(rdev)
        if let ls = Files.linkStatus(path), ls.st_mode & S_IFMT == S_IFLNK {
            link = Link(
                device: UInt64(ls.st_dev), inode: UInt64(ls.st_ino),
                changed: Int64(ls.st_ctim.tv_sec) * 1_000_000_000 + Int64(ls.st_ctim.tv_nsec), owner: ls.st_uid)
        } else {
            link = nil
        }
    }
}

extension Device {
    /// `open(path)` once `admit` found nothing wrong with what the path leads to (it returns
    /// the reason to refuse, or nil); what was opened must still be what was admitted.
    public static func open(_ path: String, admitting admit: (DeviceOrigin) -> String?) throws(SystemError) -> (FileDescriptor, DeviceOrigin) {
        guard let before = DeviceOrigin(path) else {
            // Not a character device: open says what it is and refuses it.
            let fd = try open(path)
            try? fd.close()
            throw SystemError("open", path + " (changed while it was opened)", .resourceBusy)
        }
        if let refusal = admit(before) {
            throw SystemError("open", "\(path) (\(refusal))", .permissionDenied)
        }
        let fd = try open(path)
        guard let st = Files.status(fd.rawValue), UInt64(st.st_rdev) == before.rdev, st.st_uid == before.owner,
            DeviceOrigin(path) == before
        else {
            try? fd.close()
            throw SystemError("open", path + " (changed while it was opened)", .resourceBusy)
        }
        return (fd, before)
    }
}
