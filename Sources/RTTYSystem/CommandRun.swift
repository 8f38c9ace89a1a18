#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// One run of a command that has no terminal (a trigger's): started with `Spawn.piped`,
/// its output read as it comes, ended at its deadline. Blocking: run on a thread of its own.
public enum CommandRun {
    /// Output kept for the log; the rest is read (so the command never blocks on a full
    /// pipe) and counted.
    public static let maxOutput = 64 << 10

    public struct Outcome: Sendable {
        /// "exited 0", "killed by signal 9", "timed out after 30 s (killed)".
        public var status: String
        /// What it wrote to stdout and stderr, at most `maxOutput` bytes.
        public var output: [UInt8]
        /// Bytes past `maxOutput`, read and dropped.
        public var dropped: Int
    }

    public static func run(_ argv: [String], environment: [String], timeout seconds: Double) throws(SystemError) -> Outcome {
        let child = try Spawn.piped(argv, environment: environment)
        defer { try? child.master.close() }
        var outcome = Outcome(status: "", output: [], dropped: 0)
        let deadline = WallClock.monotonicSeconds() + seconds
        var buffer = [UInt8](repeating: 0, count: 4096)
        var timedOut = false
        while true {
            let left = deadline - WallClock.monotonicSeconds()
            if left <= 0 {
                timedOut = true
                break
            }
            guard Poll.readable(child.master, timeoutMilliseconds: Int(min(left, 1) * 1000) + 1) else { continue }
            let n = buffer.withUnsafeMutableBytes { read(child.master.rawValue, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }  // every writer closed its end: the command (and what it started) is done
            let keep = max(0, min(n, maxOutput - outcome.output.count))
            outcome.output += buffer[0..<keep]
            outcome.dropped += n - keep
        }
        if timedOut {
            // The whole session: a script's own children go too.
            Spawn.signalGroup(child.pid, SIGTERM)
            Spawn.terminate(child.pid, grace: 2)
            Spawn.signalGroup(child.pid, SIGKILL)
            outcome.status = "timed out after \(Int(seconds)) s (killed)"
        } else {
            var status: CInt = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            outcome.status = status & 0x7F == 0 ? "exited \((status >> 8) & 0xFF)" : "killed by signal \(status & 0x7F)"
        }
        return outcome
    }
}
