import Foundation
import RTTYSystem
import SystemPackage

/// A program run on a terminal, as a person at a keyboard runs it: its stdin, stdout and
/// stderr are the slave side of a new pty; the test types on the master side and reads
/// everything the program writes to the terminal.
final class TerminalProcess: @unchecked Sendable {
    let process = Process()
    private let pty: PtyPair
    private let lock = NSLock()
    private var screen: [UInt8] = []
    private var reader: Thread?

    init(_ executable: String, _ arguments: [String]) throws {
        pty = try Pty.open()
        let terminal = FileHandle(fileDescriptor: pty.slave.rawValue, closeOnDealloc: false)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = terminal
        process.standardOutput = terminal
        process.standardError = terminal
        try process.start()
        // Only the program holds the terminal now: its exit shows as EIO on the master.
        try? pty.slave.close()
        let master = pty.master
        let thread = Thread { [weak self] in
            var chunk = [UInt8](repeating: 0, count: 4096)
            while let n = try? chunk.withUnsafeMutableBytes({ try master.read(into: $0) }), n > 0 {
                guard let self else { return }
                self.lock.lock()
                self.screen += chunk.prefix(n)
                self.lock.unlock()
            }
        }
        thread.start()
        reader = thread
    }

    deinit {
        if process.isRunning {
            ProcessRun.killTree(process.processIdentifier)
            try? waitUntil(timeout: 5, "the killed program to be reaped") { !process.isRunning }
        }
        process.reap()
        try? pty.master.close()
    }

    /// Everything the program has written to its terminal so far.
    var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: screen, as: UTF8.self)
    }

    /// Types `text` as keystrokes, one write per key, as a person types.
    func type(_ text: String) throws {
        for byte in Array(text.utf8) {
            _ = try [byte].withUnsafeBytes { try pty.master.write($0) }
            usleep(2_000)
        }
    }

    func waitForOutput(_ text: String, timeout: Double = 10) throws {
        try waitUntil(timeout: timeout, "terminal output \"\(text)\"; got \(output.debugDescription)") { output.contains(text) }
    }

    @discardableResult
    func waitForExit(timeout: Double = 10) throws -> Int32 {
        try waitUntil(timeout: timeout, "the program to exit; terminal: \(output.debugDescription)") { !process.isRunning }
        return process.terminationStatus
    }
}
