import Foundation
import RTTYSystem

/// A finished run of one of the built programs, with what it printed.
struct ProcessRun {
    let status: Int32
    let stdout: String
    let stderr: String

    /// OpenSSH's programs close every inherited descriptor at start, including the one
    /// Foundation's Process watches to learn that a child exited, so Process never sees them
    /// end. Run under a shell that waits for them instead: (executable, arguments) for that.
    static func shielded(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        ("/bin/sh", ["-c", "\"$@\"; exit $?", "sh", executable] + arguments)
    }

    /// Kills a program and what it started (a shielded program is the shell's child).
    static func killTree(_ pid: Int32) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == pid { kill(child, SIGKILL) }
        }
        kill(pid, SIGKILL)
    }

    /// Runs `executable` with `input` on a pipe as its stdin; waits up to `timeout` s.
    static func run(
        _ executable: String, _ arguments: [String], input: String, environment: [String: String]? = nil, timeout: Double = 20
    ) throws -> ProcessRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.start()
        // A hung program is killed, so the reads below end and the test fails instead of hanging.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { killTree(pid) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        // A program that ends (or is killed) before it read all its input: the rest is not
        // written, and the run's status says what happened. Without ignoring SIGPIPE the
        // write would kill the whole test process.
        Signals.ignoreBrokenPipe()
        try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        try waitUntil(timeout: 5, "\(executable) to exit") { !process.isRunning }
        process.reap(stdin, stdout, stderr)
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL {
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) ran over \(timeout) s and was killed; stderr: \(String(decoding: err, as: UTF8.self))")
        }
        return ProcessRun(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }
}
