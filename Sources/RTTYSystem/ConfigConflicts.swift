#if canImport(Glibc)
import Glibc
#endif
import RTTYCore

/// A configuration that would turn the daemon against itself, found with the filesystem
/// (so here, not in the pure parser): two consoles on one device or socket by what the
/// path names (a by-id symlink and /dev/ttyUSB0 are one device), a console socket or log
/// that is a daemon file (the control socket, the pid file, the audit log: a guest that
/// prints JSON lines into a log that is the audit log forges records), a console log that
/// is another console's socket, and socket paths too long for a Unix socket address.
/// `--check-config`, start-up and reload all refuse such a file, naming file and line.
public enum ConfigConflicts {
    /// One file the daemon uses, and the key (for the line number) that placed it.
    private struct Use {
        let path: String
        let what: String
        let key: String
        /// For a console's file: its name, and its key placing the file (nil: the header).
        var console: String? = nil
        var consoleKey: String? = nil
    }

    /// Where two uses are the same file: an existing file by its device and inode (a
    /// character device by its device number), a file still to be made by its directory's
    /// real path and its name.
    private enum Identity: Hashable {
        case device(UInt64)
        case inode(UInt64, UInt64)
        case path(String)
    }

    public static func check(_ config: Config, text: String, file: String) throws(ConfigError) {
        func fail(_ use: Use, _ message: String) -> ConfigError {
            let line = use.console.map { ConfigParser.line(console: $0, key: use.consoleKey, in: text) } ?? ConfigParser.line(of: use.key, in: text)
            return ConfigError(file: file, line: line, key: use.key, message: message)
        }
        let paths = config.paths
        var sockets = [Use(path: paths.control, what: "the control socket", key: "paths.control")]
        sockets.append(Use(path: paths.reportSocket, what: "the report socket", key: "paths.socket_dir"))
        var uses = sockets
        uses.append(Use(path: paths.auditLog, what: "the audit log", key: "paths.audit_log"))
        uses.append(Use(path: paths.access, what: "the ACL", key: "paths.access"))
        uses.append(Use(path: paths.sessionDir, what: "the session directory", key: "paths.session_dir"))
        if !paths.pidFile.isEmpty { uses.append(Use(path: paths.pidFile, what: "the pid file", key: "paths.pid_file")) }
        for console in config.consoles {
            let key = "console.\(console.name)"
            func use(_ path: String, _ what: String, _ sourceKey: String? = nil) -> Use {
                Use(path: path, what: what, key: key + (sourceKey.map { ".\($0)" } ?? ""), console: console.name, consoleKey: sourceKey)
            }
            let socket = use(paths.socketDir + "/" + console.name, "the socket of console \(console.name)")
            sockets.append(socket)
            uses.append(socket)
            if console.log {
                let log = paths.logDir + "/" + console.name + ".log"
                uses.append(use(log, "the log of console \(console.name)"))
                // Built-in rotation renames to NAME.log.1 ... NAME.log.KEEP.
                if console.logMaxBytes > 0 {
                    for n in 1...console.logKeep {
                        uses.append(use("\(log).\(n)", "a rotated log of console \(console.name)"))
                    }
                }
            }
            switch console.source {
            case .device(let path): uses.append(use(path, "the device of console \(console.name)", "device"))
            case .unix(let path): uses.append(use(path, "the source socket of console \(console.name)", "unix"))
            case .exec: break
            }
        }
        for socket in sockets where socket.path.utf8.count > UnixSocket.maxPathBytes {
            throw fail(socket, "\(socket.what) would be \(socket.path), \(socket.path.utf8.count) bytes: a Unix socket path has at most \(UnixSocket.maxPathBytes) (shorten socket_dir or the name)")
        }
        var seen: [Identity: Use] = [:]
        for use in uses {
            let identity = identity(use.path)
            if let first = seen[identity] {
                let same = first.path == use.path ? use.path : "\(use.path) (\(first.path))"
                throw fail(use, "\(use.what) is \(first.what): \(same); each must be a file of its own")
            }
            seen[identity] = use
        }
    }

    private static func identity(_ path: String) -> Identity {
        var st = stat()
        if stat(path, &st) == 0 {
            return st.st_mode & S_IFMT == S_IFCHR ? .device(UInt64(st.st_rdev)) : .inode(UInt64(st.st_dev), UInt64(st.st_ino))
        }
        let normal = lexical(path)
        guard let slash = normal.lastIndex(of: "/"), slash != normal.startIndex else { return .path(normal) }
        let directory = String(normal[..<slash])
        guard let real = realpath(directory, nil) else { return .path(normal) }
        defer { free(real) }
        return .path(String(cString: real) + normal[slash...])
    }

    /// `//`, `/./` and `dir/..` taken out, so that one file written two ways is one.
    private static func lexical(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
                continue
            }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
