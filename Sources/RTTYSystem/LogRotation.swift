#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum LogRotation {
    /// name.log -> name.log.1 -> ... -> name.log.keep (the oldest is dropped). Best effort:
    /// a missing generation is skipped.
    public static func shift(path: String, keep: Int) {
        guard keep > 0 else {
            unlink(path)
            return
        }
        unlink("\(path).\(keep)")
        for n in stride(from: keep - 1, through: 1, by: -1) {
            rename("\(path).\(n)", "\(path).\(n + 1)")
        }
        rename(path, "\(path).1")
    }
}
