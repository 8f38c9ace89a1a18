#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Why a Unix socket could not be connected to, found out from the file system after the
/// fact, so that a client can say what to do (its words are the client's: `rtty` and
/// `rttyctl` give different advice). Facts only, each with what a person needs to act.
public enum SocketProblem: Error, Equatable, Sendable {
    /// The socket's directory does not exist (no daemon, or another socket directory).
    case noDirectory(String)
    /// This process may not enter a directory on the way: described with mode and owner.
    case blockedDirectory(String)
    /// The directory is there, the socket is not.
    case noSocket(directory: String)
    /// Something else is at the path.
    case notASocket
    /// A socket node nobody listens on: a daemon died and left it.
    case nobodyListening
    /// The socket refuses this process: its mode and owner, and the group that opens it.
    case socketDenied(mode: String, owner: String, group: String)
    case tooLong(limit: Int)
    case other(Errno)

    /// Connects to `path`, or says why not.
    public static func connect(path: String) -> Result<FileDescriptor, SocketProblem> {
        do throws(SystemError) {
            return .success(try UnixSocket.connect(path: path))
        } catch {
            return .failure(diagnose(path: path, error.errno))
        }
    }

    public static func diagnose(path: String, _ errno: Errno) -> SocketProblem {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        switch errno {
        case .fileNameTooLong:
            return .tooLong(limit: MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1)
        case .noSuchFileOrDirectory:
            return Files.status(directory) != nil ? .noSocket(directory: directory) : .noDirectory(directory)
        case .permissionDenied:
            if let blocked = Files.blockedDirectory(on: path) { return .blockedDirectory(blocked) }
            guard let st = Files.status(path) else { return .other(errno) }
            return .socketDenied(
                mode: "0" + String(st.st_mode & 0o7777, radix: 8), owner: Accounts.userName(st.st_uid) ?? "\(st.st_uid)",
                group: Accounts.groupName(st.st_gid) ?? "\(st.st_gid)")
        case .connectionRefused:
            return Files.isSocket(path) ? .nobodyListening : .notASocket
        case .notSocket:
            return .notASocket
        default:
            return .other(errno)
        }
    }
}
