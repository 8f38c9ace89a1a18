import Foundation
import RTTYSystem

/// Paths of the built executables: next to the test bundle in .build/<config>/.
enum BuiltProducts {
    static var directory: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("rttyd").path) {
                return url
            }
        }
        return URL(fileURLWithPath: ".build/debug").standardizedFileURL
    }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The rttyd the tests start: RTTY_TEST_RTTYD names another build of it, e.g. one built
    /// with ThreadSanitizer alone (docs/RELIABILITY.md), without rebuilding the tests so.
    static var rttyd: String { ProcessInfo.processInfo.environment["RTTY_TEST_RTTYD"] ?? path("rttyd") }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A temp directory holding one daemon's config, sockets and logs.
final class TestEnvironment: Sendable {
    let root: String
    var socketDir: String { root + "/run" }
    var logDir: String { root + "/log" }
    var configPath: String { root + "/rtty.conf" }

    /// In the temp directory, or under `base`: a setgid rtty-shell reads only files in
    /// directories no one but root can write, which /tmp is not (SSHRig uses /var/lib).
    init(under base: URL = FileManager.default.temporaryDirectory) throws {
        let base = base.appendingPathComponent("rtty-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        root = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// A config with the standard [paths] in this environment plus `body`.
    func writeConfig(_ body: String, defaults: String = "", group: String? = nil, paths: String = "") throws {
        let text = """
            [paths]
            socket_dir = "\(socketDir)"
            control = "\(socketDir)/control"
            log_dir = "\(logDir)"
            audit_log = "\(logDir)/audit.jsonl"
            session_dir = "\(logDir)/sessions"
            access = "\(root)/access"
            pid_file = "\(socketDir)/rttyd.pid"
            \(paths)

            [defaults]
            group = "\(group ?? Accounts.groupName(getegid()) ?? "root")"
            \(defaults)

            \(body)
            """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func socket(_ console: String) -> String { socketDir + "/" + console }
    func log(_ console: String) -> String { logDir + "/" + console + ".log" }

    /// The audit log's records, one string each.
    var auditLines: [String] {
        ((try? String(contentsOfFile: logDir + "/audit.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func logContents(_ console: String) -> Data { (try? Data(contentsOf: URL(fileURLWithPath: log(console)))) ?? Data() }
}

/// The built rttyd, started on an environment's config; stopped with SIGTERM on deinit.
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    let env: TestEnvironment
    private let stderrPipe = Pipe()
    private let collected: PipeOutput

    /// `launcher` runs rttyd through another program, e.g. ["/usr/bin/prlimit", "--nofile=48:48"].
    init(_ env: TestEnvironment, arguments: [String] = [], launcher: [String] = []) throws {
        self.env = env
        let command = launcher + [BuiltProducts.rttyd, "--config", env.configPath, "--log-level", "debug"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        collected = PipeOutput(stderrPipe)
        try process.start()
    }

    deinit {
        if process.isRunning {
            process.terminate()
        }
        process.reap(stderrPipe)
    }

    var stderr: String { collected.text }

    /// Waits until every named console socket exists.
    func waitForSockets(_ consoles: [String], timeout: Double = 10) throws {
        try waitUntil(timeout: timeout, "sockets \(consoles) of rttyd; stderr:\n\(stderr)") {
            consoles.allSatisfy { Files.isSocket(env.socket($0)) }
        }
    }

    func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// SIGTERM and wait; returns the exit status.
    @discardableResult
    func stop(timeout: Double = 10) throws -> Int32 {
        signal(SIGTERM)
        try waitUntil(timeout: timeout, "rttyd to exit") { !process.isRunning }
        return process.terminationStatus
    }

    func waitForLog(_ text: String, timeout: Double = 10) throws {
        try waitUntil(timeout: timeout, "rttyd to log \"\(text)\"; stderr:\n\(stderr)") { stderr.contains(text) }
    }
}

/// A socket node nobody listens on, as a daemon that died leaves it. Closed at once, but a
/// child another test is spawning may hold it until its exec: wait until it refuses.
func staleSocket(_ path: String) throws {
    try UnixSocket.listen(path: path, group: nil, mode: 0o660).close()
    try waitUntil(timeout: 5, "\(path) to refuse connections") {
        guard let fd = try? UnixSocket.connect(path: path) else { return true }
        try? fd.close()
        return false
    }
}

func waitUntil(timeout: Double, _ what: @autoclosure () -> String, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    if try condition() { return }
    throw HarnessError("timed out after \(timeout) s waiting for \(what())")
}
