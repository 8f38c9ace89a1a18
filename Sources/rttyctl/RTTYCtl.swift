import ArgumentParser
import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage

@main
struct RTTYCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rttyctl",
        abstract: "Administer rttyd: consoles, sessions, line settings, ACL checks, logs.",
        version: RTTYVersion.string,
        subcommands: [
            Status.self, Who.self, Grant.self, Revoke.self, ACL.self, Kick.self, Break.self, Set.self, Reload.self, Log.self,
            Sessions.self, Replay.self, ImportClassic.self,
        ])
}

struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: "rttyd's control socket (environment: RTTY_CONTROL).")
    var control: String = ProcessEnvironment.value("RTTY_CONTROL") ?? "/run/rtty/control"

    @Flag(name: .long, help: "Print the daemon's JSON answer, for scripts.")
    var json = false

    /// Sends one request; returns the answer object, or exits with the daemon's error.
    func request(_ words: [String]) throws -> [String: Any] { try exchange(words).object }

    /// Sends one request whose answer is one of RTTYCore's reply types.
    func request<Reply: Decodable>(_ words: [String], as type: Reply.Type) throws -> Reply {
        let answer = try exchange(words).data
        do {
            return try JSONDecoder().decode(Reply.self, from: answer)
        } catch {
            throw Failure("rttyd's answer to \(words[0]) is not what this rttyctl expects (\(error)); is rttyd older than rttyctl?")
        }
    }

    /// The answer as sent (printed with --json) and as an object; throws unless it says ok.
    private func exchange(_ words: [String]) throws -> (data: Data, object: [String: Any]) {
        // Checked here, with the daemon's rule, so the error names the argument as typed.
        for word in words.dropFirst() {
            if let problem = ControlWords.problem(word) { throw Failure("\(words[0]): \(problem)") }
        }
        let fd: FileDescriptorBox
        do {
            fd = FileDescriptorBox(try UnixSocket.connect(path: control))
        } catch {
            throw Failure("cannot reach rttyd at \(control): \(error.errno) (is rttyd running? use --control PATH for another daemon)")
        }
        let answer = try fd.exchange(words.joined(separator: " ") + "\n")
        guard let object = try? JSONSerialization.jsonObject(with: answer) as? [String: Any] else {
            throw Failure("rttyd sent an answer that is not JSON: \(TerminalText.escaped(answer.prefix(200)))")
        }
        if json {
            print(String(decoding: answer, as: UTF8.self), terminator: "")
        }
        guard object["ok"] as? Bool == true else {
            throw Failure("rttyd: \(TerminalText.field(object["error"], default: "request refused"))")
        }
        return (answer, object)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Consoles, device state, line settings and clients.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "Consoles to show (default: all).") var consoles: [String] = []

    func run() throws {
        let answer = try options.request(["status"] + consoles)
        guard !options.json else { return }
        for console in answer["consoles"] as? [[String: Any]] ?? [] {
            let clients = console["clients"] as? [[String: Any]] ?? []
            let f = { (key: String) in TerminalText.field(console[key], default: "") }
            var line = "\(f("name"))  \(f("state"))  \(f("kind")) \(f("source"))  \(f("settings"))  clients: \(clients.count)"
            if console["reason"] != nil { line += "  (\(f("reason")))" }
            print(line)
        }
    }
}

struct Who: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Who is attached, to one console or all.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "A console (default: all).") var console: String?

    func run() throws {
        let answer = try options.request(["who"] + (console.map { [$0] } ?? []))
        guard !options.json else { return }
        for console in answer["consoles"] as? [[String: Any]] ?? [] {
            for client in console["clients"] as? [[String: Any]] ?? [] {
                let f = { (key: String) in TerminalText.field(client[key]) }
                print("\(TerminalText.field(console["name"]))  \(f("session"))  \(f("who"))  uid \(f("uid"))  \(f("rights"))  \(Who.origin(client))  idle \(f("idle"))s")
            }
        }
    }
}

extension Who {
    /// "from ADDRESS" (verified: a TCP peer), "claims ADDRESS" (an ssh login's
    /// SSH_CONNECTION, as the client said it) or "local".
    static func origin(_ fields: [String: Any]) -> String {
        if let from = fields["from"] { return "from " + TerminalText.field(from) }
        if let claimed = fields["claimed_from"] { return "claims " + TerminalText.field(claimed) }
        return "local"
    }
}

struct Kick: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disconnect a session (by id) or every session of a user.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "A session id from `rttyctl who`, or a user name.") var target: String

    func run() throws {
        let answer = try options.request(["kick", target])
        if !options.json { print("disconnected \(answer["kicked"] ?? 0) session(s)") }
    }
}

struct Break: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a BREAK on a console's serial line.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "The console.") var console: String

    func run() throws {
        _ = try options.request(["break", console])
        if !options.json { print("BREAK sent on \(console)") }
    }
}

struct Set: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change line settings, e.g. `rttyctl set pbx baud=115200 parity=none`.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "The console.") var console: String
    @Argument(help: "key=value pairs: baud, data, parity, stop, flow.") var settings: [String]

    func validate() throws {
        do {
            _ = try LineSettings().applying(settings.joined(separator: " "))
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        let answer = try options.request(["set", console] + settings)
        let now = answer["settings"] as? String ?? ""
        if !options.json { print("\(console): line settings now \(now)") }
        // Say so when the device did not take what was asked (a pty keeps 8N1, say).
        guard let held = try? LineSettings().applying(now), let wanted = try? held.applying(settings.joined(separator: " ")) else {
            throw Failure("rttyd answered settings \(now.debugDescription), which are not line settings")
        }
        let heldWords = held.summary.split(separator: " ")
        let refused = wanted.summary.split(separator: " ").filter { !heldWords.contains($0) }
        if !refused.isEmpty {
            throw Failure("\(console): the device did not take \(refused.joined(separator: " ")); it holds \(now)")
        }
    }
}

struct Grant: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Let a user or %group use consoles (edits the ACL, applies it at once).",
        discussion: "The line goes just before the first ACL line that would otherwise decide, so it takes effect; comments and the order of other lines are kept.")
    @OptionGroup var options: ControlOptions
    @Flag(name: .long, help: "Watch only: no typing, BREAK or setting changes.") var readOnly = false
    @Argument(help: "A user name, or %group.") var who: String
    @Argument(help: "Console names or globs (lab*).") var consoles: [String]

    func validate() throws {
        guard !consoles.isEmpty else { throw ValidationError("name at least one console, e.g. rttyctl grant \(who) pbx") }
    }

    func run() throws {
        let answer = try options.request(["grant", readOnly ? "ro" : "rw", who] + consoles)
        if !options.json {
            print("\(who) may now use \(consoles.joined(separator: ", ")) \(readOnly ? "read-only" : "read-write") (\(answer["acl"] ?? "ACL") updated)")
        }
    }
}

struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take consoles (default: all) away from a user or %group; their live sessions end at once.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "A user name, or %group.") var who: String
    @Argument(help: "Console names or globs (default: every console).") var consoles: [String] = []

    func run() throws {
        let answer = try options.request(["revoke", who] + consoles)
        guard !options.json else { return }
        let what = consoles.isEmpty ? "any console" : consoles.joined(separator: ", ")
        if answer["changed"] as? Bool == true {
            print("\(who) may no longer use \(what) (\(answer["acl"] ?? "ACL") updated)")
        } else {
            print("\(who) had no access to \(what); the ACL is unchanged")
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make rttyd re-read its configuration and ACL (as SIGHUP does).")
    @OptionGroup var options: ControlOptions

    func run() throws {
        _ = try options.request(["reload"])
        if !options.json { print("reload requested") }
    }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "rttyd's configuration file (for the log and ACL paths).")
    var config: String = "/etc/rtty/rtty.conf"

    func load() throws -> Config {
        let text: String
        do {
            text = try TextFile.read(config)
        } catch {
            throw Failure("cannot read \(config): \(error.errno); use --config FILE")
        }
        return try ConfigParser.parse(text, file: config)
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the end of a console's log; -f keeps following it.")
    @OptionGroup var config: ConfigOption
    @Argument(help: "The console.") var console: String
    @Option(name: .short, help: "Lines to print.") var n: Int = 20
    @Flag(name: .short, help: "Follow the log as it grows.") var f = false

    func validate() throws {
        guard n >= 0 else { throw ValidationError("-n must be 0 or more") }
    }

    func run() throws {
        let parsed = try config.load()
        guard parsed.console(named: console) != nil else { throw Failure("no console \(console) in \(config.config)") }
        let path = parsed.paths.logDir + "/" + console + ".log"
        var arguments = ["-n", String(n)]
        if f { arguments.append("-F") }
        let tail = Process()
        tail.executableURL = URL(fileURLWithPath: "/usr/bin/tail")
        tail.arguments = arguments + [path]
        try tail.run()
        tail.waitUntilExit()
        if tail.terminationStatus != 0 { throw ExitCode(tail.terminationStatus) }
    }
}

/// Answered by the daemon, from the ACL it loaded and its own decision function: the file
/// is root:rtty 0640, and what the daemon has in force is what counts anyway.
struct ACL: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the ACL's rules and problems, or check one user and console (as rttyd sees them).",
        subcommands: [Show.self, Check.self], defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The rules in force, in the order they are tried.")
        @OptionGroup var options: ControlOptions

        func run() throws {
            let listing = try options.request(["acl"], as: ControlACL.Listing.self)
            guard !options.json else { return }
            print("# \(listing.path): the first line that matches user and console decides")
            for rule in listing.rules {
                print("\(rule.who)\t\(rule.consoles.joined(separator: ","))\t\(rule.rights)\t# line \(rule.line)")
            }
            for problem in listing.problems { print("# problem: \(problem)") }
            if let unreadable = listing.unreadable {
                throw Failure("rttyd cannot read \(listing.path) (\(unreadable)): nobody but root gets in")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What a user may do on a console, and which line decided.")
        @OptionGroup var options: ControlOptions
        @Argument(help: "User name.") var user: String
        @Argument(help: "Console name.") var console: String

        func run() throws {
            let check = try options.request(["acl-check", user, console], as: ControlACL.Check.self)
            if !options.json { print("\(check.user) \(check.console): \(check.rights) (\(check.why))") }
        }
    }
}

/// Owns a connected socket for one request/answer exchange.
final class FileDescriptorBox {
    let fd: SystemPackageFD
    init(_ fd: SystemPackageFD) { self.fd = fd }
    deinit { try? fd.close() }

    /// A daemon that refuses us answers and closes without reading our request: the write
    /// may then fail (EPIPE), and the read end with a reset after the answer. Both are the
    /// normal end of a refusal, whose answer says why.
    func exchange(_ request: String) throws -> Data {
        Signals.ignoreBrokenPipe()
        do {
            _ = try Array(request.utf8).withUnsafeBytes { try fd.writeAll($0) }
        } catch let error as Errno where error == .brokenPipe || error == .connectionReset {}
        var answer = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while Poll.readable(fd, timeoutMilliseconds: 10_000) {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
            } catch let error as Errno where error == .connectionReset && !answer.isEmpty {
                return answer
            }
            if n == 0 { return answer }
            answer.append(contentsOf: chunk.prefix(n))
        }
        throw Failure("rttyd did not answer within 10 s")
    }
}
