#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A file a set-id program refused to read, and why: the error names the file asked for,
/// the directory or file that failed, and the check it failed.
public struct UntrustedFile: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: String
    /// Set when a call failed (ENOENT for a file that is not there) rather than a check.
    public let errno: Errno?

    public var description: String { "\(path): \(problem)" }
}

/// Reading a file the way a set-id program must (OpenSSH's `safe_path`, done on
/// descriptors): from / down, each directory is opened without following links relative to
/// the one before and checked on the opened descriptor (a directory, owned by root, writable
/// by nobody else), then the file likewise (a regular file, owned by root, writable by
/// nobody else), and what is read is that very descriptor. No path is ever checked and
/// opened later, so there is nothing to race; a symbolic link anywhere on the way is refused.
public enum TrustedFile {
    public static func read(_ path: String) throws(UntrustedFile) -> String {
        let names = path.split(separator: "/").map(String.init)
        guard path.hasPrefix("/"), !names.isEmpty, !names.contains(where: { $0 == "." || $0 == ".." }) else {
            throw UntrustedFile(path: path, problem: "not a plain absolute path", errno: nil)
        }
        var directory = try open(path, "/", in: AT_FDCWD, flags: O_DIRECTORY)
        var walked = ""
        for name in names.dropLast() {
            walked += "/" + name
            let parent = directory
            defer { Files.closeQuietly(parent) }
            directory = try open(path, walked, in: parent, flags: O_DIRECTORY)
        }
        defer { Files.closeQuietly(directory) }
        // O_NONBLOCK: opening a FIFO must not hang before fstat refuses it.
        let file = try open(path, path, in: directory, flags: O_NOCTTY | O_NONBLOCK)
        let fd = FileDescriptor(rawValue: file)
        defer { try? fd.close() }
        do {
            return try TextFile.read(fd, path)
        } catch {
            throw UntrustedFile(path: path, problem: "cannot read: \(error.errno)", errno: error.errno)
        }
    }

    /// Opens the last component of `walked` below `parent` without following a link, then
    /// checks what was opened.
    private static func open(_ path: String, _ walked: String, in parent: Int32, flags: Int32) throws(UntrustedFile) -> Int32 {
        let name = walked == "/" ? "/" : String(walked[walked.index(after: walked.lastIndex(of: "/")!)...])
        let fd: Int32
        do {
            fd = try syscall("open", walked) { openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags) }
        } catch {
            // Only for the message: which refusal it was (the open decided already).
            var st = stat()
            let isLink = (try? syscall("fstatat", walked) { fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) }) != nil && st.st_mode & S_IFMT == S_IFLNK
            let problem = isLink ? "is a symbolic link (not followed)" : "cannot be opened: \(error.errno)"
            throw UntrustedFile(path: path, problem: describe(walked, path) + problem, errno: error.errno)
        }
        var st = stat()
        let kind = flags & O_DIRECTORY != 0 ? S_IFDIR : S_IFREG
        var problem: String?
        do throws(SystemError) {
            try syscall("fstat", walked) { fstat(fd, &st) }
            if st.st_mode & S_IFMT != kind {
                problem = kind == S_IFDIR ? "is not a directory" : "is not a regular file"
            } else if st.st_uid != 0 {
                problem = "is owned by uid \(st.st_uid), not root"
            } else if st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                let who = st.st_mode & S_IWOTH != 0 ? "others" : "its group"
                problem = "is writable by \(who) (mode 0\(String(st.st_mode & 0o7777, radix: 8)))"
            }
        } catch {
            problem = "cannot be checked: \(error.errno)"
        }
        guard let problem else { return fd }
        Files.closeQuietly(fd)
        throw UntrustedFile(path: path, problem: describe(walked, path) + problem, errno: nil)
    }

    /// "" for the file itself (its name leads the error already), else "DIRECTORY ".
    private static func describe(_ walked: String, _ path: String) -> String { walked == path ? "" : walked + " " }
}
