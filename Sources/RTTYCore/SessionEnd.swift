/// How `rtty` and `rtty-shell` end, for scripts and for ssh's own exit status (rtty(1),
/// rtty-shell(8) EXIT STATUS).
public enum ExitStatus: Int32, Sendable {
    /// The user left (`~.`, end of input, the `--timeout` ran out with all input sent).
    case left = 0
    /// Something failed: the daemon cannot be reached, input was not sent, a protocol error.
    case error = 1
    /// No such console.
    case noSuchConsole = 2
    /// Access denied: by the socket's permissions or by the daemon's access list.
    case denied = 3
    /// An administrator ended the session (`rttyctl kick`, `rttyctl revoke`).
    case detached = 4
    /// The daemon closed the console: stopped, removed, restarting, or gone.
    case consoleClosed = 5
}

/// The notices with which rttyd closes a client, in one place: the daemon builds them
/// here and the client reads them back here, so their words and their meaning cannot
/// drift apart. A classic client shows the text; `rtty` also maps it to its exit status.
/// Each text starts with a fixed phrase that no broadcast notice starts with (those start
/// with a user name, `tcp@`, or `console reconfigured`, `line settings`, `BREAK`, `device`).
public enum ClosingNotice: Equatable, Sendable {
    case denied(user: String, console: String)
    case unverified
    case full(console: String, why: String)
    case kicked(by: String)
    case revoked(console: String)
    case removed(console: String)
    case shuttingDown
    case restarting
    case notStarted
    case protocolError(String)

    public var text: String {
        switch self {
        case .denied(let user, let console): "access denied: \(user) may not use console \(console)"
        case .unverified: "cannot verify who you are; closing"
        case .full(let console, let why): "console \(console): \(why); try later"
        case .kicked(let admin): "you were disconnected by \(admin)"
        case .revoked(let console): "access to console \(console) was revoked"
        case .removed(let console): "console \(console) was removed from the configuration"
        case .shuttingDown: "rttyd shutting down"
        case .restarting: "console restarting: rttyd paths changed"
        case .notStarted: "rttyd could not start"
        case .protocolError(let what): "protocol error: \(what); closing"
        }
    }

    /// What a closed session's last notice says about how it ended; nil for any other
    /// notice (then the session just closed: `consoleClosed`).
    public static func exitStatus(after notice: String) -> ExitStatus? {
        if notice.hasPrefix("access denied: ") || notice == ClosingNotice.unverified.text { return .denied }
        if notice.hasPrefix("you were disconnected by ") { return .detached }
        if notice.hasPrefix("access to console "), notice.hasSuffix(" was revoked") { return .detached }
        if notice.hasPrefix("console "), notice.hasSuffix(" was removed from the configuration") { return .consoleClosed }
        if notice == ClosingNotice.shuttingDown.text || notice == ClosingNotice.restarting.text || notice == ClosingNotice.notStarted.text {
            return .consoleClosed
        }
        if notice.hasPrefix("console "), notice.hasSuffix("; try later") { return .error }
        if notice.hasPrefix("protocol error: ") { return .error }
        return nil
    }
}
