import Foundation
import RTTYSystem

/// A program that keeps running while a test talks to it: input written in steps, output
/// collected as it comes, killed on deinit if still running.
final class LiveProcess: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errors = Pipe()
    private let collectedOutput: PipeOutput
    private let collectedErrors: PipeOutput

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        collectedOutput = PipeOutput(output)
        collectedErrors = PipeOutput(errors)
        try process.start()
    }

    deinit {
        if process.isRunning {
            ProcessRun.killTree(process.processIdentifier)
            try? waitUntil(timeout: 5, "the killed program to be reaped") { !process.isRunning }
        }
        process.reap(input, output, errors)
    }

    var stdout: String { collectedOutput.text }

    var stderr: String { collectedErrors.text }

    /// To its stdin; lost if it has ended (its status says so), never a SIGPIPE or a trap.
    func write(_ text: String) {
        Signals.ignoreBrokenPipe()
        try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
    }

    func closeInput() { try? input.fileHandleForWriting.close() }

    func waitForOutput(_ text: String, timeout: Double = 10) throws {
        try waitUntil(timeout: timeout, "output \"\(text)\"; stdout: \(stdout.debugDescription) stderr: \(stderr.debugDescription)") {
            stdout.contains(text)
        }
    }

    /// Waits for the program to end by itself; returns its exit status.
    @discardableResult
    func waitForExit(timeout: Double = 10) throws -> Int32 {
        try waitUntil(timeout: timeout, "the program to exit; stdout: \(stdout.debugDescription) stderr: \(stderr.debugDescription)") {
            !process.isRunning
        }
        return process.terminationStatus
    }
}
