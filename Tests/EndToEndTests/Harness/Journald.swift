import Foundation

/// A real systemd-journald (Debian's systemd package) in a journal namespace of its own,
/// started by the test: it listens on /run/systemd/journal.NAMESPACE/ and stores in
/// /var/log/journal/MACHINE.NAMESPACE, both removed at the end; the system's journal is
/// not touched. Read back with `journalctl --namespace`.
final class Journald {
    static let path = "/lib/systemd/systemd-journald"
    static var enabled: Bool {
        FileManager.default.isExecutableFile(atPath: path) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    let namespace = "rtty-test-" + UUID().uuidString.prefix(8).lowercased()
    var socket: String { "/run/systemd/journal.\(namespace)/socket" }
    private let process: LiveProcess

    init() throws {
        process = try LiveProcess(Self.path, [namespace])
        try waitUntil(timeout: 10, "journald's socket \(socket); it said: \(process.stderr)") { FileManager.default.fileExists(atPath: socket) }
    }

    deinit {
        kill(process.process.processIdentifier, SIGKILL)
        try? waitUntil(timeout: 5, "journald to die") { !process.process.isRunning }
        try? FileManager.default.removeItem(atPath: "/run/systemd/journal.\(namespace)")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/var/log/journal")) ?? [] where name.hasSuffix("." + namespace) {
            try? FileManager.default.removeItem(atPath: "/var/log/journal/" + name)
        }
    }

    /// rttyd's entries, each as journalctl's JSON gives its fields.
    func entries() throws -> [[String: String]] {
        let run = try ProcessRun.run("/usr/bin/journalctl", ["--namespace=\(namespace)", "-o", "json", "--no-pager", "SYSLOG_IDENTIFIER=rttyd"], input: "")
        return run.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?.compactMapValues { $0 as? String }
        }
    }
}
