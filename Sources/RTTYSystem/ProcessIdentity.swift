#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who this process runs as.
public enum ProcessIdentity {
    /// The most `raiseOpenFileLimit` asks for. Not a hard limit of a million: exec consoles
    /// inherit it, and old programs close every descriptor up to it.
    public static let openFilesWanted = 65_536

    /// Raises the soft RLIMIT_NOFILE towards the hard limit, up to `openFilesWanted`: each
    /// console holds a device and a listening socket and each client a connection, so
    /// 1,000 consoles pass the usual soft limit of 1,024. Returns the limit now in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard (try? syscall("getrlimit", "RLIMIT_NOFILE", { getrlimit(PlatformFiles.openFilesLimit, &limit) })) != nil else { return -1 }
        let target = min(limit.rlim_max, max(limit.rlim_cur, rlim_t(openFilesWanted)))
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if (try? syscall("setrlimit", "RLIMIT_NOFILE", { setrlimit(PlatformFiles.openFilesLimit, &raised) })) != nil { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    public static var effectiveUID: UInt32 { geteuid() }
    public static var effectiveGID: UInt32 { getegid() }
    public static var isRoot: Bool { geteuid() == 0 }
    public static var pid: Int32 { getpid() }
    public static var realUID: UInt32 { getuid() }
    /// Running set-id (installed setgid or setuid, or whatever else the kernel runs in
    /// secure-execution mode): the caller chose our environment, arguments, descriptors and
    /// working directory, so none of them may name a file we trust.
    public static var isSetID: Bool {
        geteuid() != getuid() || getegid() != getgid() || PlatformIdentity.isSecureExecution
    }

    /// Supplementary groups of this process.
    public static func groups() -> [UInt32] {
        let count = (try? syscall("getgroups") { getgroups(0, nil) }) ?? 0
        guard count > 0 else { return [] }
        var list = [gid_t](repeating: 0, count: Int(count))
        let got = (try? syscall("getgroups") { getgroups(count, &list) }) ?? 0
        return got > 0 ? Array(list.prefix(Int(got))) : []
    }

    /// The absolute path of the running executable (/proc/self/exe on Linux).
    public static func executablePath() -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = (try? syscall("readlink", "/proc/self/exe") { readlink("/proc/self/exe", &buffer, buffer.count - 1) }) ?? 0
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #else
        return nil
        #endif
    }
}
