import Foundation

/// A private rsyslogd (Debian's package): its own config, a datagram socket in a temp dir
/// (imuxsock with the RFC 5424 parser, not the local-only one) and mmpstrucdata, rsyslog's
/// own structured-data parser. Each message becomes one line of `out.log`: the header
/// fields as rsyslog parsed them, tab-separated, then the structured data as JSON.
final class Rsyslog {
    static let path = "/usr/sbin/rsyslogd"
    static var enabled: Bool {
        FileManager.default.isExecutableFile(atPath: path) || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    let directory: String
    var socket: String { directory + "/log.sock" }
    var output: String { directory + "/out.log" }
    private var process: LiveProcess?

    init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            global(workDirectory="\(directory)" maxMessageSize="64k")
            module(load="imuxsock" SysSock.Use="off")
            module(load="mmpstrucdata")
            input(type="imuxsock" Socket="\(socket)" UseSpecialParser="off" ParseHostname="on" UsePIDFromSystem="off" Annotate="off" IgnoreTimestamp="off" RateLimit.Interval="0")
            template(name="fields" type="string" string="%protocol-version%\\t%pri%\\t%timereported:::date-rfc3339%\\t%hostname%\\t%app-name%\\t%procid%\\t%msgid%\\t%msg%\\t%$!%\\n")
            action(type="mmpstrucdata")
            action(type="omfile" file="\(output)" template="fields")
            """
        try config.write(toFile: directory + "/rsyslog.conf", atomically: true, encoding: .utf8)
        try start()
    }

    func start() throws {
        let run = try LiveProcess(Self.path, ["-n", "-f", directory + "/rsyslog.conf", "-i", directory + "/rsyslogd.pid"])
        process = run
        try waitUntil(timeout: 10, "rsyslogd's socket \(socket); it said: \(run.stderr)") { FileManager.default.fileExists(atPath: socket) }
    }

    var pid: Int32? { process?.process.processIdentifier }

    /// Kills rsyslogd (SIGKILL: its socket stays behind, unanswered, as after a crash).
    func kill() throws {
        guard let process else { return }
        Foundation.kill(process.process.processIdentifier, SIGKILL)
        try waitUntil(timeout: 5, "rsyslogd to die") { !process.process.isRunning }
        self.process = nil
    }

    struct Message {
        var version, priority, time, host, app, procid, msgid, text: String
        /// rtty@32473's parameters, as mmpstrucdata decoded them.
        var data: [String: String]
    }

    func messages() throws -> [Message] {
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 9 else { throw RsyslogError(line: String(line)) }
            let json = try JSONSerialization.jsonObject(with: Data(parts[8].utf8)) as? [String: Any]
            let sd = (json?["rfc5424-sd"] as? [String: Any])?["rtty@32473"] as? [String: String] ?? [:]
            return Message(
                version: parts[0], priority: parts[1], time: parts[2], host: parts[3], app: parts[4], procid: parts[5], msgid: parts[6],
                text: parts[7], data: sd)
        }
    }

    struct RsyslogError: Error { let line: String }
}
