import ArgumentParser
import FoundationEssentials
import RTTYCore
import RTTYSystem
import SystemPackage

@main
struct RTTYCtl: ParsableCommand {
    /// Argument parsing and `run`, after `Signals.unblockTermination`.
    static func main() {
        Signals.unblockTermination()
        main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "rttyctl",
        abstract: "Administer rttyd: consoles, sessions, line settings, ACL checks, logs.",
        version: RTTYVersion.string,
        subcommands: [
            Status.self, Who.self, Grant.self, Revoke.self, ACL.self, Kick.self, Break.self, Set.self, Reload.self, Log.self,
            Sessions.self, Replay.self, ImportClassic.self, Send.self, Expect.self,
        ])

    /// --control and --json before the subcommand, as git and systemctl take theirs: the
    /// root parses them wherever they are on the line (the last one wins), and each
    /// subcommand's `@OptionGroup var options: ControlOptions` is this same value
    /// (ArgumentParser hands a group that a parent decoded to its children).
    @OptionGroup var options: ControlOptions
}

struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: "rttyd's control socket (environment: RTTY_CONTROL).")
    var control: String = ProcessEnvironment.value("RTTY_CONTROL") ?? "/run/rtty/control"

    @Flag(name: .long, help: "Print the daemon's JSON answer, for scripts.")
    var json = false

    @Flag(name: .long, help: "status and who on every host of the fleet file, over ssh (rttyctl(8) FLEET).")
    var fleet = false

    @Option(name: .customLong("fleet-file"), help: "The fleet file (default: ~/.config/rtty/fleet, then /etc/rtty/fleet); implies --fleet.")
    var fleetFile: String?

    /// Sends one request and decodes its answer as one of RTTYCore's answer types, or exits
    /// with the daemon's error.
    @discardableResult
    func request<Answer: Decodable>(_ request: ControlRequest, as type: Answer.Type = ControlAnswer.Outcome.self) throws -> Answer {
        var answer = Data()
        try connect(request).exchange(Self.line(request)) { answer += $0 }
        try check(answer)
        do {
            return try JSONDecoder().decode(Answer.self, from: answer)
        } catch {
            throw Failure("rttyd's answer to \(request.command.rawValue) is not what this rttyctl expects (\(error)); is rttyd older than rttyctl?")
        }
    }

    /// A streamed answer (`log`): its first line is the JSON answer; what follows is given
    /// to `body` chunk by chunk as it arrives, until the daemon closes (with `follow`, as
    /// long as it takes).
    func stream(_ request: ControlRequest, follow: Bool, _ body: ([UInt8]) throws -> Void) throws {
        let fd = try connect(request)
        var header = Data()
        var started = false
        try fd.exchange(Self.line(request), waitForever: follow) { chunk in
            guard !started else { return try body(chunk) }
            header += chunk
            guard let newline = header.firstIndex(of: 10) else { return }
            started = true
            try check(Data(header[...newline]))
            if newline + 1 < header.endIndex { try body(Array(header[(newline + 1)...])) }
        }
        if !started { try check(header) }
    }

    /// The request as the daemon decodes it: one JSON object on one line.
    static func line(_ request: ControlRequest) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(request), as: UTF8.self) + "\n"
    }

    /// Connects, once the request passed the daemon's own rule, so that the error names the
    /// argument as typed.
    private func connect(_ request: ControlRequest) throws -> FileDescriptorBox {
        guard !isFleet else { throw Failure("--fleet works with status and who only; other requests go to one host: ssh HOST rttyctl ...") }
        if let problem = request.problem { throw Failure("\(request.command.rawValue): \(problem)") }
        switch SocketProblem.connect(path: control) {
        case .success(let connected): return FileDescriptorBox(connected)
        case .failure(let problem): throw Failure(Self.unreachable(control, problem))
        }
    }

    /// Prints the answer as sent with --json; throws unless it says ok.
    private func check(_ answer: Data) throws {
        guard let outcome = try? JSONDecoder().decode(ControlAnswer.Outcome.self, from: answer) else {
            throw Failure("rttyd sent an answer that is not JSON: \(TerminalText.escaped(answer.prefix(200)))")
        }
        if json {
            print(String(decoding: answer, as: UTF8.self), terminator: "")
        }
        guard outcome.ok else {
            // An rttyd from before typed requests reads the JSON line as one unknown word.
            let older = outcome.error?.hasPrefix("unknown request {") == true ? " (rttyd is older than this rttyctl; restart it: systemctl restart rttyd)" : ""
            throw Failure("rttyd: \(TerminalText.field(outcome.error, default: "request refused"))\(older)")
        }
    }
}

extension ControlOptions {
    /// What was tried, why it failed and what to do, for a control socket out of reach.
    static func unreachable(_ control: String, _ problem: SocketProblem) -> String {
        let start = "cannot reach rttyd at \(control)"
        let elsewhere = "name the control socket of the rttyd you mean with --control PATH or RTTY_CONTROL"
        let user = Accounts.currentUserName()
        switch problem {
        case .noDirectory(let directory):
            return "\(start): \(directory) does not exist; rttyd is not running, or its [paths] control is elsewhere: \(elsewhere)"
        case .noSocket:
            return "\(start): there is no control socket; rttyd is not running (start it: systemctl start rttyd), or \(elsewhere)"
        case .notASocket:
            return "\(start): that is not a socket; \(elsewhere)"
        case .nobodyListening:
            return "\(start): nothing answers on the socket (connection refused): rttyd is not running and left it behind; start rttyd (systemctl start rttyd)"
        case .blockedDirectory(let blocked):
            return "\(start): \(user) may not enter \(blocked); run rttyctl as root or as a member of rttyd's admin group"
        case .socketDenied(let mode, let owner, let group):
            return "\(start): \(user) may not open the socket (mode \(mode), \(owner):\(group)); rttyctl is for root and the members of \(group): run it as root, or ask for `usermod -a -G \(group) \(user)`"
        case .tooLong(let limit):
            return "\(start): the path is longer than the \(limit) bytes a socket path may have"
        case .other(let errno):
            return "\(start): \(errno)"
        }
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
        if options.isFleet { return try FleetControl.run(["status"] + consoles, options, lines: Status.lines) }
        let answer = try options.request(.status(consoles: consoles), as: ControlAnswer.Consoles.self)
        guard !options.json else { return }
        Status.lines(answer.consoles).forEach { print($0) }
    }

    static func lines(_ consoles: [ControlAnswer.Console]) -> [String] {
        consoles.map { console in
            let f: (String) -> String = TerminalText.escaped
            var line = "\(f(console.name))  \(f(console.state))  \(f(console.kind)) \(f(console.source))  \(f(console.settings))  clients: \(console.clients.count)"
            if let reason = console.reason { line += "  (\(f(reason)))" }
            return line
        }
    }
}

struct Who: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Who is attached, to one console or all.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "A console (default: all).") var console: String?

    func run() throws {
        let words = ["who"] + (console.map { [$0] } ?? [])
        if options.isFleet { return try FleetControl.run(words, options, lines: Who.lines) }
        let answer = try options.request(.who(consoles: console.map { [$0] } ?? []), as: ControlAnswer.Consoles.self)
        guard !options.json else { return }
        Who.lines(answer.consoles).forEach { print($0) }
    }

    static func lines(_ consoles: [ControlAnswer.Console]) -> [String] {
        consoles.flatMap { console in
            console.clients.map { client in
                let f: (String) -> String = TerminalText.escaped
                return "\(f(console.name))  \(f(client.session))  \(f(client.who))  uid \(client.uid)  \(f(client.rights))  \(Who.origin(client))  idle \(client.idle)s"
            }
        }
    }
}

extension Who {
    /// "from ADDRESS" (verified: a TCP peer), "claims ADDRESS" (an ssh login's
    /// SSH_CONNECTION, as the client said it) or "local".
    static func origin(_ client: ControlAnswer.Client) -> String {
        if let from = client.from { return "from " + TerminalText.escaped(from) }
        if let claimed = client.claimedFrom { return "claims " + TerminalText.escaped(claimed) }
        return "local"
    }
}

struct Kick: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disconnect a session (by id) or every session of a user.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "A session id from `rttyctl who`, or a user name.") var target: String

    func run() throws {
        let answer = try options.request(.kick(target: target), as: ControlAnswer.Kicked.self)
        if !options.json { print("disconnected \(answer.kicked) session(s)") }
    }
}

struct Break: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a BREAK on a console's serial line.")
    @OptionGroup var options: ControlOptions
    @Argument(help: "The console.") var console: String

    func run() throws {
        try options.request(.lineBreak(console: console))
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
        let now = try options.request(.set(console: console, settings: settings), as: ControlAnswer.Settings.self).settings
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
        let answer = try options.request(.grant(rights: readOnly ? .ro : .rw, subject: who, consoles: consoles), as: ControlAnswer.AccessChange.self)
        if !options.json {
            print("\(who) may now use \(consoles.joined(separator: ", ")) \(readOnly ? "read-only" : "read-write") (\(TerminalText.escaped(answer.acl)) updated)")
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
        let answer = try options.request(.revoke(subject: who, consoles: consoles.isEmpty ? nil : consoles), as: ControlAnswer.AccessChange.self)
        guard !options.json else { return }
        let what = consoles.isEmpty ? "any console" : consoles.joined(separator: ", ")
        if answer.changed == true {
            print("\(who) may no longer use \(what) (\(TerminalText.escaped(answer.acl)) updated)")
        } else {
            print("\(who) had no access to \(what); the ACL is unchanged")
        }
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make rttyd re-read its configuration and ACL (as SIGHUP does) and say how it went.")
    @OptionGroup var options: ControlOptions

    func run() throws {
        let answer = try options.request(.reload, as: ControlAnswer.Reloaded.self)
        let problems = answer.problems.map(TerminalText.escaped)
        if !options.json { print(TerminalText.escaped(answer.summary)) }
        guard problems.isEmpty else { throw Failure("reloaded, but: " + problems.joined(separator: "; ")) }
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the end of a console's log (through rttyd); -f keeps following it.",
        discussion: "What the guest printed is made safe for a terminal: text, CR, LF, TAB and SGR colours pass; other escape sequences and controls are shown, as \\e]52;... (--raw: the bytes as they are).")
    @OptionGroup var options: ControlOptions
    @Argument(help: "The console.") var console: String
    @Option(name: .short, help: "Lines to print.") var n: Int = 20
    @Flag(name: .short, help: "Follow the log as it grows.") var f = false
    @Flag(name: .long, help: "The log's bytes as they are, escape sequences and all.") var raw = false

    func validate() throws {
        guard (0...100_000).contains(n) else { throw ValidationError("-n must be from 0 to 100000") }
    }

    func run() throws {
        var filter = TerminalFilter()
        try options.stream(.log(console: console, lines: n, follow: f), follow: f) { bytes in
            try Output.write(raw ? bytes : filter.feed(bytes))
        }
        if !raw { try Output.write(filter.finish()) }
    }
}

/// Standard output, written at once (a followed log is seen as it comes).
enum Output {
    static func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        do {
            _ = try bytes.withUnsafeBytes { try SystemPackageFD.standardOutput.writeAll($0) }
        } catch {
            throw ExitCode(1)  // the reader went away (a pipe to head, say)
        }
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
            let listing = try options.request(.acl, as: ControlACL.Listing.self)
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
            let check = try options.request(.aclCheck(user: user, console: console), as: ControlACL.Check.self)
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
    /// normal end of a refusal, whose answer says why. The answer goes to `received` as it
    /// arrives; the daemon must say something every 10 s unless `waitForever` (a follow).
    func exchange(_ request: String, waitForever: Bool = false, _ received: ([UInt8]) throws -> Void) throws {
        Signals.ignoreBrokenPipe()
        do {
            _ = try Array(request.utf8).withUnsafeBytes { try fd.writeAll($0) }
        } catch let error as Errno where error == .brokenPipe || error == .connectionReset {}
        var heard = false
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while Poll.readable(fd, timeoutMilliseconds: waitForever && heard ? -1 : 10_000) {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
            } catch let error as Errno where error == .connectionReset && heard {
                return
            }
            if n == 0 { return }
            heard = true
            try received(Array(chunk.prefix(n)))
        }
        throw Failure("rttyd did not answer within 10 s")
    }
}
