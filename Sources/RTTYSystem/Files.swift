#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

public enum Files {
    /// mkdir -p: each missing component is made with exactly `mode` (set with fchmod after
    /// mkdir, so the umask does not cut it down: rttyd started by hand or under umask 077
    /// would make its socket directory 0700 and lock every console user out); existing
    /// directories are left as they are.
    public static func makeDirectory(_ path: String, mode: UInt16) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            do throws(SystemError) {
                try syscall("mkdir", current) { mkdir(current, mode_t(mode)) }
            } catch where error.errno == .fileExists {
                continue
            }
            let fd = try syscall("open", current) { open(current, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            defer { closeQuietly(fd) }
            try syscall("fchmod", current) { fchmod(fd, mode_t(mode)) }
        }
        guard let st = status(path), st.st_mode & S_IFMT == S_IFDIR else {
            throw SystemError("mkdir", path + " (exists and is not a directory)", .fileExists)
        }
    }

    /// The first directory on the way to `path` that a user other than its owner, with
    /// `group` among their groups, cannot enter (no search permission for them), described
    /// with its mode and owner; nil when the way is open.
    public static func closedToOthers(_ path: String, group: UInt32?) -> String? {
        var current = ""
        for component in [""] + path.split(separator: "/").map(String.init) {
            current += component.isEmpty ? "/" : (current == "/" ? "" : "/") + component
            guard let st = status(current), st.st_mode & S_IFMT == S_IFDIR else { return nil }
            let passes = st.st_mode & S_IXOTH != 0 || (st.st_mode & S_IXGRP != 0 && st.st_gid == group)
            if !passes { return describe(current, st) }
        }
        return nil
    }

    /// Where this process, with its own (effective) ids, is stopped on the way to `path`: the
    /// directory it may not enter, with its mode and owner; nil if it gets to `path` (then a
    /// refusal is about `path` itself).
    public static func blockedDirectory(on path: String) -> String? {
        var parent = "/"
        for component in path.split(separator: "/") {
            let next = (parent == "/" ? "" : parent) + "/" + component
            do throws(SystemError) {
                var st = stat()
                try syscall("stat", next) { stat(next, &st) }
            } catch {
                guard error.errno == .permissionDenied, let st = status(parent) else { return nil }
                return describe(parent, st)
            }
            parent = next
        }
        return nil
    }

    private static func describe(_ path: String, _ st: stat) -> String {
        let owner = Accounts.userName(st.st_uid) ?? "\(st.st_uid)"
        let group = Accounts.groupName(st.st_gid) ?? "\(st.st_gid)"
        return "\(path) (mode 0\(String(st.st_mode & 0o7777, radix: 8)), \(owner):\(group))"
    }

    /// stat(2) of `path` (symlinks followed), nil if that fails.
    static func status(_ path: String) -> stat? {
        var st = stat()
        return (try? syscall("stat", path) { stat(path, &st) }) == nil ? nil : st
    }

    /// lstat(2) of `path` (a symlink itself), nil if that fails.
    static func linkStatus(_ path: String) -> stat? {
        var st = stat()
        return (try? syscall("lstat", path) { lstat(path, &st) }) == nil ? nil : st
    }

    /// fstat(2) of an open descriptor, nil if that fails.
    static func status(_ fd: CInt) -> stat? {
        var st = stat()
        return (try? syscall("fstat", "fd \(fd)") { fstat(fd, &st) }) == nil ? nil : st
    }

    /// Closes a descriptor whose close cannot usefully fail (cleanup paths).
    static func closeQuietly(_ fd: CInt) {
        _ = try? syscall("close", "fd \(fd)") { close(fd) }
    }

    public static func isSocket(_ path: String) -> Bool {
        linkStatus(path).map { $0.st_mode & S_IFMT == S_IFSOCK } ?? false
    }

    public static func exists(_ path: String) -> Bool { linkStatus(path) != nil }

    public static func canReadWrite(_ path: String) -> Bool { (try? syscall("access", path) { access(path, R_OK | W_OK) }) != nil }

    /// The pipe or tty behind `fd` opened again for reading, as a new open file
    /// description, so that O_NONBLOCK set on it (an event loop needs it) never reaches
    /// the original, which a parent shell or our own stdout may share. Nil for what cannot
    /// be reopened (sockets, regular files, other devices, FreeBSD): read those the
    /// blocking way. rtty-shell runs setgid, so this must grant nothing new: `fd` must
    /// already be open for reading, and the copy must be the very same pipe or tty.
    public static func reopenForReading(_ fd: FileDescriptor) -> FileDescriptor? {
        guard let flags = try? syscall("fcntl", "fd \(fd.rawValue)", { fcntl(fd.rawValue, F_GETFL) }), flags & O_ACCMODE != O_WRONLY,
            let original = status(fd.rawValue)
        else { return nil }
        let kind = original.st_mode & S_IFMT
        guard kind == S_IFIFO || (kind == S_IFCHR && isatty(fd.rawValue) == 1) else { return nil }
        let copy = PlatformFiles.reopen(fd.rawValue)
        guard copy >= 0 else { return nil }
        guard let reopened = status(copy), reopened.st_dev == original.st_dev, reopened.st_ino == original.st_ino,
            reopened.st_rdev == original.st_rdev
        else {
            closeQuietly(copy)
            return nil
        }
        return FileDescriptor(rawValue: copy)
    }

    public static func ttyName(_ fd: FileDescriptor) -> String? {
        var name = [CChar](repeating: 0, count: 256)
        guard (try? syscallStatus("ttyname", "fd \(fd.rawValue)", { ttyname_r(fd.rawValue, &name, name.count) })) != nil else { return nil }
        return String(cStringBytes: name)
    }

    public static func rename(_ from: String, to: String) throws(SystemError) {
        try syscall("rename", "\(from) to \(to)") { Glibc.rename(from, to) }
    }

    /// Removes a file (not a directory); nothing if it is not there.
    public static func removeFile(_ path: String) {
        _ = try? syscall("unlink", path) { unlink(path) }
    }

    public struct Entry: Sendable {
        public let name: String
        public let size: Int
        /// Modification time, seconds since the epoch.
        public let modified: Double
    }

    /// The regular files in a directory, with size and modification time (links are not
    /// followed), in no particular order.
    public static func files(in directory: String) throws(SystemError) -> [Entry] {
        var entries: [Entry] = []
        for name in try list(directory) {
            guard let st = linkStatus(directory + "/" + name), st.st_mode & S_IFMT == S_IFREG else { continue }
            entries.append(Entry(name: name, size: Int(st.st_size), modified: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9))
        }
        return entries
    }

    /// Names in a directory (without . and ..), sorted.
    public static func list(_ directory: String) throws(SystemError) -> [String] {
        let dir = try syscallPointer("open directory", directory) { opendir(directory) }
        defer { _ = try? syscall("closedir", directory) { closedir(dir) } }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = entryName(entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The name of a directory entry, read in place up to its NUL. A dirent is only as long
    /// as its name (d_reclen): copying `entry.pointee` or its `d_name` reads the declared
    /// 256 bytes, past the end of readdir's buffer when the entry is its last, and crashes
    /// when the next page is unmapped (a directory of about 1,350 short names fills the
    /// buffer: /proc/self/fd of a busy rttyd, read for its metrics).
    public static func entryName(_ entry: UnsafePointer<dirent>) -> String {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        return String(cString: UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self))
    }
}

public enum PidFile {
    /// Writes our pid; refuses when the file names another live rttyd. A pid from a
    /// previous boot or a crash may since belong to any program (a stale file once kept
    /// rttyd from starting because that number was now a shell): only a process running
    /// this same program, by name or by executable, counts. Returns a note when a stale
    /// file naming a live process was replaced. Where the system cannot say what a process
    /// runs, any live one counts, as the safe side.
    @discardableResult
    public static func write(_ path: String) throws(SystemError) -> String? {
        var note: String?
        if let text = try? TextFile.read(path), let pid = Int32(text.split(separator: "\n").first ?? ""),
            pid != getpid(), pid > 0, (try? syscall("kill", "pid \(pid)", { kill(pid, 0) })) != nil
        {
            guard let other = PlatformProcess.programName(pid), !runsThisProgram(pid) else {
                throw SystemError("write pid file", "\(path) (rttyd pid \(pid) is running; stop it first, or give this one another pid_file)", .fileExists)
            }
            note = "pid file \(path) named pid \(pid), which is now \(other.debugDescription), not rttyd: replaced"
        }
        try TextFile.write(path, "\(getpid())\n")
        return note
    }

    /// The process runs what we run: the same program name, or the same executable.
    static func runsThisProgram(_ pid: Int32) -> Bool {
        let me = getpid()
        if let name = PlatformProcess.programName(pid), name == PlatformProcess.programName(me) { return true }
        if let exe = PlatformProcess.executable(pid), exe == PlatformProcess.executable(me) { return true }
        return false
    }

    public static func remove(_ path: String) {
        Files.removeFile(path)
    }
}
