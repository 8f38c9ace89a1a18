#if canImport(Glibc)
import Glibc
#endif
import CRTTYShims
import SystemPackage

public struct SpawnedChild: Sendable {
    public let master: FileDescriptor
    public let pid: Int32
}

/// Commands of exec consoles: run under a new pty, reaped, ended.
public enum Spawn {
    public static func underPty(_ argv: [String], environment: [String], rows: Int, cols: Int) throws(SystemError) -> SpawnedChild {
        try spawn(argv, environment) { argv, env, fd, pid in
            rtty_spawn_pty(argv, env, UInt16(clamping: rows), UInt16(clamping: cols), fd, pid)
        }
    }

    /// A command without a terminal (a trigger's): stdin /dev/null, stdout and stderr one
    /// pipe whose read end is `master` (blocking), nothing else open, its own session.
    public static func piped(_ argv: [String], environment: [String]) throws(SystemError) -> SpawnedChild {
        try spawn(argv, environment) { argv, env, fd, pid in rtty_spawn_piped(argv, env, fd, pid) }
    }

    private static func spawn(
        _ argv: [String], _ environment: [String],
        _ call: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>, UnsafeMutablePointer<CInt>, UnsafeMutablePointer<pid_t>) -> CInt
    ) throws(SystemError) -> SpawnedChild {
        guard let path = argv.first, path.hasPrefix("/") else {
            throw SystemError("run", argv.first ?? "(empty command)", .invalidArgument)
        }
        let cArgv = argv.map { strdup($0) }
        let cEnv = environment.map { strdup($0) }
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        let argvPointers: [UnsafePointer<CChar>?] = cArgv.map { UnsafePointer($0) } + [nil]
        let envPointers: [UnsafePointer<CChar>?] = cEnv.map { UnsafePointer($0) } + [nil]
        var fd: CInt = -1
        var pid: pid_t = 0
        try syscall("run", path) { call(argvPointers, envPointers, &fd, &pid) }
        return SpawnedChild(master: FileDescriptor(rawValue: fd), pid: pid)
    }

    /// The signals the daemon sends its exec consoles' commands.
    public enum Signal: Sendable {
        /// The line went away (the console is released): the command's usual cue to end.
        case hangUp
        case terminate
        case kill

        var number: CInt {
            switch self {
            case .hangUp: SIGHUP
            case .terminate: SIGTERM
            case .kill: SIGKILL
            }
        }
    }

    /// nil while the child runs; else how it ended ("exited 3", "killed by signal 9").
    public static func reap(_ pid: Int32) -> String? {
        var status: CInt = 0
        let result: pid_t
        do throws(SystemError) {
            result = try syscall("waitpid", "pid \(pid)") { waitpid(pid, &status, WNOHANG) }
        } catch {
            return error.errno == .noChildProcess ? "ended" : nil
        }
        if result == 0 { return nil }
        // The wait status as <sys/wait.h> lays it out (its macros are not visible to Swift):
        // the low 7 bits are the terminating signal, 0 for a normal exit with the status above.
        let signal = status & 0x7F
        if signal == 0 { return "exited \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal)"
    }

    /// The pty reports the hang-up a moment before the exiting child can be reaped: wait
    /// up to 50 ms for its status.
    public static func reapSoon(_ pid: Int32) -> String? {
        for _ in 0..<10 {
            if let status = reap(pid) { return status }
            Console.sleep(milliseconds: 5)
        }
        return nil
    }

    /// Best effort: a child that is already gone has nothing to be told.
    public static func signal(_ pid: Int32, _ signal: Signal) {
        _ = try? syscall("kill", "pid \(pid)") { kill(pid, signal.number) }
    }

    /// A signal to the process group `pid` leads (a `piped` child's session), so what it
    /// started goes too.
    public static func signalGroup(_ pid: Int32, _ sig: CInt) {
        _ = kill(-pid, sig)
    }

    /// SIGTERM, up to `grace` seconds to go, then SIGKILL; always reaps. Blocking.
    public static func terminate(_ pid: Int32, grace: Double) {
        guard reap(pid) == nil else { return }
        self.signal(pid, .terminate)
        var waited = 0.0
        while waited < grace {
            if reap(pid) != nil { return }
            Console.sleep(milliseconds: 20)
            waited += 0.02
        }
        self.signal(pid, .kill)
        var status: CInt = 0
        _ = try? syscall("waitpid", "pid \(pid)") { waitpid(pid, &status, 0) }
    }
}
