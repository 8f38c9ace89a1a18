import Foundation

/// A finished run of one of the built programs, with what it printed.
struct ProcessRun {
    let status: Int32
    let stdout: String
    let stderr: String

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
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        try waitUntil(timeout: timeout, "\(executable) to exit") { !process.isRunning }
        return ProcessRun(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err, as: UTF8.self))
    }
}
