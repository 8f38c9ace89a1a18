import FoundationEssentials
import RTTYAuth
import RTTYClient
import RTTYCore
import RTTYSystem

/// The ssh session's environment, as sshd sets it.
struct ShellEnvironment {
    private let values: [String: String]

    init() {
        values = ProcessEnvironment.all()
    }

    subscript(key: String) -> String? { values[key] }

    var remoteHost: String? {
        values["SSH_CONNECTION"].flatMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// What the daemon records about this session (it trusts none of it for access).
    var metadata: [String: String] {
        var out: [String: String] = [:]
        for key in ["SSH_CONNECTION", "SSH_TTY", "TERM", "SSH_ORIGINAL_COMMAND"] {
            if let value = values[key] { out[key == "SSH_ORIGINAL_COMMAND" ? "COMMAND" : key] = value }
        }
        return out
    }
}

/// What rtty-shell reads, and how. Set-id (installed setgid, so run by anyone with any
/// environment, arguments, descriptors and working directory) it takes no path from its
/// caller: the compiled-in config only, `pam_service_dir` never (the system's PAM service),
/// and the config and ACL read through `TrustedFile` (root's files in root's directories,
/// checked on the descriptors read). Not set-id (tests; root by hand) it has nothing its
/// caller lacks, so RTTY_CONFIG and `pam_service_dir` work and files are read plainly.
struct ShellFiles {
    let setID = ProcessIdentity.isSetID

    func loadConfig(_ environment: ShellEnvironment) throws(ConfigError) -> Config {
        if setID { return try ConfigFile.loadTrusted(ConfigFile.systemPath) }
        let chosen = environment["RTTY_CONFIG"] ?? ""
        return try ConfigFile.load(chosen.isEmpty ? ConfigFile.systemPath : chosen)
    }

    func pamServiceDirectory(_ config: Config) -> String? {
        setID || config.paths.pamServiceDir.isEmpty ? nil : config.paths.pamServiceDir
    }

    /// The ACL's text; "" when there is none (then only root gets in). Set-id, a file that
    /// is there but cannot be trusted is an error, not an empty list.
    func readACL(_ config: Config) throws(UntrustedFile) -> String {
        guard setID else { return (try? TextFile.read(config.paths.access)) ?? "" }
        do {
            return try TrustedFile.read(config.paths.access)
        } catch where error.errno == .noSuchFileOrDirectory {
            return ""
        }
    }
}

/// The consoles this user may use: sockets that exist, filtered by the ACL.
struct ShellConsoles {
    struct Entry {
        let name: String
        let rights: AccessList.Rights
    }

    let allowed: [Entry]

    init(config: Config, aclText: String, user: String) {
        // The daemon's decision, made by the same function (it decides again on connect).
        let policy = AccessDecision.Policy(list: AccessList(parsing: aclText, file: config.paths.access), file: config.paths.access)
        let requester = AccessDecision.Requester(uid: ProcessIdentity.realUID, name: user, groups: Accounts.groupNames(ofUser: user))
        allowed = config.consoles.compactMap { console in
            let rights = AccessDecision.decide(requester, console: console.name, policy: policy).rights
            return rights == .none ? nil : Entry(name: console.name, rights: rights)
        }
    }

    func rights(of name: String) -> AccessList.Rights { allowed.first { $0.name == name }?.rights ?? .none }
}

/// The numbered menu for a user with several consoles; asks again on a bad answer. A
/// `.refuse` from here is the user's own choice (or their input ended), not a denial.
enum Menu {
    static func ask(_ names: [String], consoles: ShellConsoles) -> ConsoleChoice {
        for _ in 0..<10 {
            Console.write("Consoles you may use:\n")
            for (index, name) in names.enumerated() {
                let rights = consoles.rights(of: name) == .ro ? " (read-only)" : ""
                Console.write("  \(index + 1)) \(name)\(rights)\n")
            }
            Console.write("Console number or name (q to quit): ")
            guard let answer = Console.readLine() else { return .refuse("rtty-shell: no console chosen") }
            if answer.trimmingSpaces() == "q" { return .refuse("rtty-shell: bye") }
            if let name = ConsoleChoice.pick(answer, from: names) { return .attach(name) }
            Console.write("\"\(answer)\" is not in the list.\n")
        }
        return .refuse("rtty-shell: too many wrong answers")
    }
}

/// PAM prompts on the terminal; secrets are read with echo off.
final class TerminalConversation: PAMConversation {
    func answer(_ prompt: String, echo: Bool) -> String? {
        Console.write(prompt)
        let saved = echo ? nil : Termios.disableEcho(.standardInput)
        defer {
            if let saved {
                Termios.restore(saved)
                Console.write("\n")
            }
        }
        return Console.readLine()
    }

    func show(_ message: String, isError: Bool) {
        if isError { Console.writeError(message + "\n") } else { Console.write(message + "\n") }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\r" || c == "\n" || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\r" || c == "\n" || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Tells rttyd about a refusal or a failed login, for the audit log (rttyd writes it; the
/// report socket takes the uid from the peer credentials). Best effort: a daemon that is
/// down must not keep the user waiting.
enum ShellReport {
    static func send(_ event: ShellReportRequest.Event, config: Config?, environment: ShellEnvironment, command: String?, message: String) {
        guard let config, let fd = try? UnixSocket.connect(path: config.paths.reportSocket) else { return }
        defer { try? fd.close() }
        guard let line = line(event, connection: environment["SSH_CONNECTION"] ?? "", command: command ?? "", message: message) else { return }
        guard (try? line.withUnsafeBytes({ try fd.writeAll($0) })) != nil else { return }
        // Wait for the answer, so the record is written before sshd sees the exit.
        var answer = [UInt8](repeating: 0, count: 256)
        if Poll.readable(fd, timeoutMilliseconds: 2000) {
            _ = try? answer.withUnsafeMutableBytes { try fd.read(into: $0) }
        }
    }

    /// The report as one JSON line under the socket's bound: a long command (escaped, it
    /// may grow sixfold) is cut shorter until it fits.
    static func line(_ event: ShellReportRequest.Event, connection: String, command: String, message: String) -> [UInt8]? {
        for limit in [1000, 200, 40] {
            let cut = { (text: String) in String(text.unicodeScalars.prefix(limit)) }
            let report = ShellReportRequest(event: event, sshConnection: cut(connection), command: cut(command), message: cut(message))
            guard let encoded = try? JSONEncoder().encode(report) else { return nil }
            if encoded.count < RequestLine.maxBytes { return Array(encoded) + [10] }
        }
        return nil
    }
}
