public enum LogRotation {
    /// name.log -> name.log.1 -> ... -> name.log.keep (the oldest is dropped). Best effort:
    /// a missing generation is skipped.
    public static func shift(path: String, keep: Int) {
        guard keep > 0 else {
            Files.removeFile(path)
            return
        }
        Files.removeFile("\(path).\(keep)")
        for n in stride(from: keep - 1, through: 1, by: -1) {
            try? Files.rename("\(path).\(n)", to: "\(path).\(n + 1)")
        }
        try? Files.rename(path, to: "\(path).1")
    }
}
