/// What rttyctl asks rttyd on the control socket (docs/PROTOCOL.md, "Control socket"): one
/// JSON object on one line, `{"request":"grant","rights":"ro","subject":"rtm","consoles":["pbx"]}`,
/// encoded by rttyctl and decoded by the daemon (each end with its JSON coder; the core
/// has no Foundation). Typed, an argument arrives as the one value it was; the values are
/// still held to ControlWords' rule (no empty name, none with a space or an invisible
/// character), since they name users, groups, consoles and sessions, which hold none, and
/// reach logs, the ACL file and audit records.
public enum ControlRequest: Equatable, Sendable {
    case status(consoles: [String])
    case who(consoles: [String])
    case kick(target: String)
    case lineBreak(console: String)
    /// `settings`: key=value pairs (baud, data, parity, stop, flow).
    case set(console: String, settings: [String])
    case grant(rights: AccessList.Rights, subject: String, consoles: [String])
    /// `consoles` nil: every console.
    case revoke(subject: String, consoles: [String]?)
    case reload
    case acl
    case aclCheck(user: String, console: String)
    case log(console: String, lines: Int, follow: Bool)
    case sessions(console: String?, user: String?)
    case transcript(session: String)

    public static let maxLogLines = 100_000

    /// The request's name on the wire, and which fields each takes.
    public enum Command: String, CaseIterable, Sendable {
        case status, who, kick, lineBreak = "break", set, grant, revoke, reload, acl, aclCheck = "acl-check", log, sessions, transcript

        var fields: [Field] {
            switch self {
            case .status, .who: [.consoles]
            case .kick: [.target]
            case .lineBreak: [.console]
            case .set: [.console, .settings]
            case .grant: [.rights, .subject, .consoles]
            case .revoke: [.subject, .consoles]
            case .reload, .acl: []
            case .aclCheck: [.user, .console]
            case .log: [.console, .lines, .follow]
            case .sessions: [.console, .user]
            case .transcript: [.session]
            }
        }

        /// The word form's usage, also the answer to a request missing what it needs.
        public var usage: String {
            switch self {
            case .status: "usage: status [CONSOLE...]"
            case .who: "usage: who [CONSOLE...]"
            case .kick: "usage: kick SESSION|USER"
            case .lineBreak: "usage: break CONSOLE (a configured console)"
            case .set: "usage: set CONSOLE key=value ... (keys baud, data, parity, stop, flow)"
            case .grant: "usage: grant rw|ro USER|%GROUP CONSOLE..."
            case .revoke: "usage: revoke USER|%GROUP [CONSOLE...]"
            case .reload: "usage: reload (it takes no arguments)"
            case .acl: "usage: acl (it takes no arguments)"
            case .aclCheck: "usage: acl-check USER CONSOLE"
            case .log: "usage: log CONSOLE LINES [follow] (LINES from 0 to \(ControlRequest.maxLogLines))"
            case .sessions: "usage: sessions [console=NAME] [user=NAME]"
            case .transcript: "usage: transcript SESSION"
            }
        }
    }

    enum Field: String, CodingKey, CaseIterable {
        case request, consoles, console, target, settings, rights, subject, user, lines, follow, session
    }

    public var command: Command {
        switch self {
        case .status: .status
        case .who: .who
        case .kick: .kick
        case .lineBreak: .lineBreak
        case .set: .set
        case .grant: .grant
        case .revoke: .revoke
        case .reload: .reload
        case .acl: .acl
        case .aclCheck: .aclCheck
        case .log: .log
        case .sessions: .sessions
        case .transcript: .transcript
        }
    }

    /// Every name the request carries, in order, for the one rule on values.
    var names: [String] {
        switch self {
        case .status(let consoles), .who(let consoles): consoles
        case .kick(let target): [target]
        case .lineBreak(let console), .log(let console, _, _): [console]
        case .set(let console, let settings): [console] + settings
        case .grant(_, let subject, let consoles): [subject] + consoles
        case .revoke(let subject, let consoles): [subject] + (consoles ?? [])
        case .reload, .acl: []
        case .aclCheck(let user, let console): [user, console]
        case .sessions(let console, let user): [console, user].compactMap { $0 }
        case .transcript(let session): [session]
        }
    }

    /// nil when the daemon can carry the request out as asked, else what is wrong with it:
    /// the first value no name may be, or a shape the request does not take. Both ends
    /// check: rttyctl before it connects, the daemon on whatever reaches its socket.
    public var problem: String? {
        if let problem = names.lazy.compactMap(ControlWords.problem).first { return problem }
        switch self {
        case .set(_, let settings) where settings.isEmpty: return command.usage
        case .grant(let rights, _, let consoles) where consoles.isEmpty || rights == .none: return command.usage
        case .revoke(_, let consoles?) where consoles.isEmpty: return "revoke: name at least one console, or leave consoles out for every console"
        case .log(_, let lines, _) where !(0...Self.maxLogLines).contains(lines): return command.usage
        default: return nil
        }
    }

    /// Throws when `problem` is not nil, as the daemon answers it.
    public func validated() throws(ControlWords.Failure) -> ControlRequest {
        if let problem { throw ControlWords.Failure("request refused: \(problem)") }
        return self
    }
}

extension ControlRequest {
    /// The old form, one line of words (as ControlWords splits it), which the daemon still
    /// takes for one release so that scripts writing words to the socket keep working.
    public init(words: [String]) throws(ControlWords.Failure) {
        guard let word = words.first, let command = Command(rawValue: word) else {
            throw ControlWords.Failure("unknown request \(TerminalText.escaped(words.first ?? "")); rttyctl --help lists the commands")
        }
        let args = Array(words.dropFirst())
        let usage = ControlWords.Failure(command.usage)
        switch command {
        case .status: self = .status(consoles: args)
        case .who: self = .who(consoles: args)
        case .kick, .lineBreak, .transcript:
            guard args.count == 1 else { throw usage }
            self = command == .kick ? .kick(target: args[0]) : command == .lineBreak ? .lineBreak(console: args[0]) : .transcript(session: args[0])
        case .set:
            guard args.count >= 2 else { throw usage }
            self = .set(console: args[0], settings: Array(args.dropFirst()))
        case .grant:
            guard args.count >= 3, let rights = AccessList.Rights(rawValue: args[0]) else { throw usage }
            self = .grant(rights: rights, subject: args[1], consoles: Array(args.dropFirst(2)))
        case .revoke:
            guard !args.isEmpty else { throw usage }
            self = .revoke(subject: args[0], consoles: args.count > 1 ? Array(args.dropFirst()) : nil)
        case .reload, .acl:
            guard args.isEmpty else { throw usage }
            self = command == .reload ? .reload : .acl
        case .aclCheck:
            guard args.count == 2 else { throw usage }
            self = .aclCheck(user: args[0], console: args[1])
        case .log:
            guard (2...3).contains(args.count), let lines = Int(args[1]), args.count == 2 || args[2] == "follow" else { throw usage }
            self = .log(console: args[0], lines: lines, follow: args.count == 3)
        case .sessions:
            var console: String?
            var user: String?
            for arg in args {
                let parts = arg.split(separator: "=", maxSplits: 1).map(String.init)
                switch parts.count == 2 ? parts[0] : "" {
                case "console": console = parts[1]
                case "user": user = parts[1]
                default: throw ControlWords.Failure("sessions takes console=NAME and user=NAME, not \(TerminalText.escaped(arg))")
                }
            }
            self = .sessions(console: console, user: user)
        }
        self = try validated()
    }
}

extension ControlWords.Failure {
    public init(_ description: String) { self.init(description: description) }
}
