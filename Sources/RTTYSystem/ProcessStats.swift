#if canImport(Glibc)
import Glibc
#endif

/// What the daemon's metrics say about the process itself.
public enum ProcessStats {
    /// Descriptors open now; nil where the system does not list them.
    public static func openDescriptors() -> Int? {
        // The listing holds one descriptor of its own while it reads.
        (try? Files.list(PlatformFiles.descriptorDirectory)).map { max($0.count - 1, 0) }
    }

    /// The soft RLIMIT_NOFILE.
    public static func descriptorLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(PlatformFiles.openFilesLimit, &limit) == 0 else { return nil }
        return limit.rlim_cur >= rlim_t(Int.max) ? nil : Int(limit.rlim_cur)  // RLIM_INFINITY: no limit
    }

    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
