#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A file that says what a user's ssh runs (the fleet file: its options reach ssh, and
/// ProxyCommand runs a command): read only if it is a regular file owned by the user or by
/// root that nobody else can write, checked on the opened descriptor, as ssh checks
/// ~/.ssh/config. A link is followed (dotfiles are often links); what it leads to is checked.
public enum OwnConfigFile {
    public static func read(_ path: String) throws(UntrustedFile) -> String {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec, .nonBlocking])
        } catch {
            let code = error as? Errno ?? .ioError
            throw UntrustedFile(path: path, problem: "cannot be opened: \(code)", errno: code)
        }
        defer { try? fd.close() }
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else { throw UntrustedFile(path: path, problem: "cannot be checked", errno: Errno(rawValue: errno)) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw UntrustedFile(path: path, problem: "is not a regular file", errno: nil) }
        let me = getuid()
        guard st.st_uid == me || st.st_uid == 0 else {
            throw UntrustedFile(path: path, problem: "belongs to uid \(st.st_uid), neither you (uid \(me)) nor root; ssh would run what it says", errno: nil)
        }
        guard st.st_mode & 0o022 == 0 else {
            throw UntrustedFile(path: path, problem: "can be written by others (mode \(String(st.st_mode & 0o777, radix: 8))); chmod go-w it", errno: nil)
        }
        do {
            return try TextFile.read(fd, path)
        } catch {
            throw UntrustedFile(path: path, problem: "cannot read: \(error.errno)", errno: error.errno)
        }
    }
}

/// Replacing this process with another program (`rtty NAME` through a fleet becomes ssh,
/// so the terminal, signals and exit status are ssh's own, with no process in between).
public enum ProgramExec {
    /// Looks `program` up in PATH as a shell would (execvp), with `argv` as its words: no
    /// shell reads them. Returns only if the exec failed.
    public static func replace(_ program: String, _ argv: [String]) -> Errno {
        let cArgv = argv.map { strdup($0) }
        var pointers: [UnsafeMutablePointer<CChar>?] = cArgv + [nil]
        _ = execvp(program, &pointers)
        let code = Errno(rawValue: errno)
        cArgv.forEach { free($0) }
        return code
    }
}
