import RTTYCore
import RTTYSystem

/// Which program attaches: its name prefixes every message, and what it can tell the user
/// to do differs. `rtty` users run it themselves and choose the socket directory; an ssh
/// user of `rtty-shell` chooses nothing, so every problem there is for an admin to fix.
public enum AttachClient: Sendable {
    case rtty
    case shell
    /// `rttyctl send` and `expect`: run by the user, worded as for rtty.
    case rttyctl

    public var name: String {
        switch self {
        case .rtty: "rtty"
        case .shell: "rtty-shell"
        case .rttyctl: "rttyctl"
        }
    }
}

/// A console that could not be opened: what was tried, why it failed, what to do, and
/// the exit status that says it (rtty(1) EXIT STATUS).
package struct ConnectFailure {
    package let message: String
    package let status: ExitStatus

    package init(_ problem: SocketProblem, path: String, console: String, client: AttachClient) {
        let user = Accounts.currentUserName()
        let name = client.name
        let start = "\(name): cannot open console \(console) (\(path))"
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        // rttyctl's console commands are run by the user as rtty is: the same advice; only
        // rtty-shell's user chooses nothing.
        let shell = client == .shell
        switch (problem, shell) {
        case (.noDirectory(let directory), false):
            message = "\(start): the socket directory \(directory) does not exist; rttyd is not running, or keeps its sockets elsewhere: name that directory with --socket-dir DIR or RTTY_SOCKET_DIR"
            status = .error
        case (.noSocket, false), (.notASocket, false):
            message = "\(name): there is no console \(console) in \(directory); `rtty --socket-dir \(directory)` lists the consoles you may use"
            status = .noSuchConsole
        case (.noDirectory, true), (.noSocket, true), (.nobodyListening, true), (.notASocket, true):
            message = "\(start): rttyd is not serving it (\(problem.reason)); try again later or tell an admin"
            status = .error
        case (.nobodyListening, false):
            message = "\(start): nothing answers on the socket (connection refused): rttyd is not running and left it behind; start rttyd (systemctl start rttyd) or tell an admin"
            status = .error
        case (.blockedDirectory(let blocked), _):
            message = "\(start): \(client == .shell ? "rtty-shell" : user) may not enter the directory \(blocked), which must be open to console users (mode 0755); tell an admin"
            status = .error
        case (.socketDenied(let mode, let owner, let group), false):
            message = "\(start): \(user) may not open the socket (mode \(mode), \(owner):\(group)); local console users must be in the group \(group): ask an admin for `usermod -a -G \(group) \(user)`, or log in with ssh, where rtty-shell opens it for you"
            status = .denied
        case (.socketDenied(let mode, let owner, let group), true):
            message = "\(start): rtty-shell may not open the socket (mode \(mode), \(owner):\(group)); it must be installed setgid \(group), mode 2755: tell an admin"
            status = .error
        case (.tooLong(let limit), _):
            message = "\(start): the path is longer than the \(limit) bytes a socket path may have; use a shorter socket directory"
            status = .error
        case (.other(let errno), _):
            message = "\(start): \(errno)"
            status = .error
        }
    }
}

extension SocketProblem {
    /// A few words for a message that names the problem without advice.
    package var reason: String {
        switch self {
        case .noDirectory(let directory): "\(directory) does not exist"
        case .blockedDirectory(let blocked): "\(blocked) cannot be entered"
        case .noSocket: "no socket"
        case .notASocket: "not a socket"
        case .nobodyListening: "nothing listens on the socket"
        case .socketDenied(let mode, let owner, let group): "socket mode \(mode), \(owner):\(group)"
        case .tooLong(let limit): "path over \(limit) bytes"
        case .other(let errno): "\(errno)"
        }
    }
}
