#if canImport(Glibc)
import Glibc
#endif

/// Users and groups from the system databases (getpwuid_r and friends).
public enum Accounts {
    public static func groupID(named name: String) -> UInt32? {
        var group = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return group.gr_gid
    }

    public static func groupName(_ gid: UInt32) -> String? {
        var group = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getgrgid_r(gid, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: group.gr_name)
    }

    public static func userName(_ uid: UInt32) -> String? {
        var user = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwuid_r(uid, &user, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return String(cString: user.pw_name)
    }

    public static func userID(named name: String) -> UInt32? {
        var user = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &user, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return user.pw_uid
    }

    /// The primary group of a user, from the password database.
    public static func primaryGroup(ofUser name: String) -> UInt32? {
        var user = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &user, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return user.pw_gid
    }

    public static func currentUserName() -> String {
        userName(getuid()) ?? "\(getuid())"
    }

    /// All groups of a user: the primary one and every supplementary one.
    public static func groups(ofUser name: String, primary: UInt32) -> [UInt32] {
        var count: CInt = 64
        var list = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, primary, &list, &count) < 0 {
            list = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, primary, &list, &count) >= 0 else { return [primary] }
        }
        return Array(list.prefix(Int(count)))
    }
}
