#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CRTTYShims
import SystemPackage

/// Edits of a small text file that readers never see half-done and concurrent editors
/// never lose: an exclusive lock on a lock file beside it, the new text in a temp file in
/// the same directory (same owner, group and mode as the old file), fsync, rename, fsync of
/// the directory.
public enum AtomicFile {
    /// Applies `transform` to the current text ("" if the file does not exist yet) and
    /// replaces the file with the result; returns (old, new).
    @discardableResult
    public static func update(_ path: String, newFileMode: mode_t = 0o640, _ transform: (String) throws -> String) throws -> (String, String) {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let lock = try syscall("open", directory + "/." + name + ".lock") {
            open(directory + "/." + name + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        }
        defer { Files.closeQuietly(lock) }
        try syscall("flock", path) { flock(lock, LOCK_EX) }

        var old = ""
        let existing = Files.status(path)
        if existing != nil { old = try TextFile.read(path) }
        let new = try transform(old)
        guard new != old else { return (old, new) }

        var template = Array((directory + "/." + name + ".XXXXXX").utf8CString)
        let fd = try syscall("mkstemp", directory) { template.withUnsafeMutableBufferPointer { rtty_mkstemp($0.baseAddress!) } }
        let temp = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        do {
            defer { Files.closeQuietly(fd) }
            if let st = existing {
                try syscall("fchown", temp) { fchown(fd, st.st_uid, st.st_gid) }
                try syscall("fchmod", temp) { fchmod(fd, st.st_mode & 0o7777) }
            } else {
                try syscall("fchmod", temp) { fchmod(fd, newFileMode) }
            }
            _ = try FileDescriptor(rawValue: fd).writeAll(Array(new.utf8))
            try syscall("fsync", temp) { fsync(fd) }
        } catch {
            Files.removeFile(temp)
            throw error
        }
        do {
            try Files.rename(temp, to: path)
        } catch {
            Files.removeFile(temp)
            throw error
        }
        // Best effort: the rename is done; this makes it survive a power cut.
        if let dirFD = try? syscall("open", directory, { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }) {
            _ = try? syscall("fsync", directory) { fsync(dirFD) }
            Files.closeQuietly(dirFD)
        }
        return (old, new)
    }
}
