#if canImport(Glibc)
import Glibc
#endif

/// Users and groups from the system databases (the reentrant getpw*_r / getgr*_r calls).
public enum Accounts {
    public static func groupID(named name: String) -> UInt32? {
        groupEntry { getgrnam_r(name, &$0, &$1, $1.count, &$2) }?.gid
    }

    public static func groupName(_ gid: UInt32) -> String? {
        groupEntry { getgrgid_r(gid, &$0, &$1, $1.count, &$2) }?.name
    }

    public static func userName(_ uid: UInt32) -> String? {
        userEntry { getpwuid_r(uid, &$0, &$1, $1.count, &$2) }?.name
    }

    public static func userID(named name: String) -> UInt32? {
        userEntry { getpwnam_r(name, &$0, &$1, $1.count, &$2) }?.uid
    }

    /// The primary group of a user, from the password database.
    public static func primaryGroup(ofUser name: String) -> UInt32? {
        userEntry { getpwnam_r(name, &$0, &$1, $1.count, &$2) }?.gid
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

    /// The names of every group a user is in (primary and supplementary): what ACL lines
    /// (`%group`) and the admin group are matched against, looked up one way everywhere.
    public static func groupNames(ofUser name: String) -> [String] {
        groups(ofUser: name, primary: primaryGroup(ofUser: name) ?? UInt32.max).compactMap(groupName)
    }

    private typealias Lookup<Entry> = (inout Entry, inout [CChar], inout UnsafeMutablePointer<Entry>?) -> CInt

    private static func userEntry(_ lookup: Lookup<passwd>) -> (name: String, uid: UInt32, gid: UInt32)? {
        var entry = passwd()
        var buffer = [CChar](repeating: 0, count: 16_384)
        var result: UnsafeMutablePointer<passwd>?
        guard lookup(&entry, &buffer, &result) == 0, result != nil else { return nil }
        return (String(cString: entry.pw_name), entry.pw_uid, entry.pw_gid)
    }

    private static func groupEntry(_ lookup: Lookup<group>) -> (name: String, gid: UInt32)? {
        var entry = group()
        var buffer = [CChar](repeating: 0, count: 16_384)
        var result: UnsafeMutablePointer<group>?
        guard lookup(&entry, &buffer, &result) == 0, result != nil else { return nil }
        return (String(cString: entry.gr_name), entry.gr_gid)
    }
}
