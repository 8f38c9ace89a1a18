/// What rtty-shell tells rttyd on the report socket, for the audit log: a refused request
/// or a failed login. One JSON object on one line, `{"event":"refused","ssh_connection":
/// "...","command":"...","message":"..."}`, encoded by rtty-shell and decoded by the
/// daemon. Only `event` is the daemon's to check: the rest is the shell user's to say
/// (the uid comes from the peer credentials), kept as a claim and sanitized there.
public struct ShellReportRequest: Codable, Equatable, Sendable {
    public enum Event: String, Sendable {
        case refused
        case loginFailed = "login-failed"
    }

    public var event: Event
    /// SSH_CONNECTION as the shell saw it ("" if unset).
    public var sshConnection: String
    /// The command the user gave ("" for none).
    public var command: String
    public var message: String

    public init(event: Event, sshConnection: String, command: String, message: String) {
        (self.event, self.sshConnection, self.command, self.message) = (event, sshConnection, command, message)
    }

    enum CodingKeys: String, CodingKey {
        case event, sshConnection = "ssh_connection", command, message
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        let word = try fields.decode(String.self, forKey: .event)
        guard let event = Event(rawValue: word) else { throw Self.unknown(word) }
        self.init(
            event: event, sshConnection: try fields.decodeIfPresent(String.self, forKey: .sshConnection) ?? "",
            command: try fields.decodeIfPresent(String.self, forKey: .command) ?? "", message: try fields.decode(String.self, forKey: .message))
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: CodingKeys.self)
        try fields.encode(event.rawValue, forKey: .event)
        try fields.encode(sshConnection, forKey: .sshConnection)
        try fields.encode(command, forKey: .command)
        try fields.encode(message, forKey: .message)
    }

    /// The old form, EVENT TAB SSH_CONNECTION TAB COMMAND TAB MESSAGE, which the daemon
    /// still takes for one release (a shell started before an upgrade).
    public init(tabLine line: String) throws(ControlWords.Failure) {
        let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4 else { throw ControlWords.Failure("a report is a JSON object with event, ssh_connection, command and message") }
        guard let event = Event(rawValue: fields[0]) else { throw Self.unknown(fields[0]) }
        self.init(event: event, sshConnection: fields[1], command: fields[2], message: fields[3])
    }

    private static func unknown(_ word: String) -> ControlWords.Failure {
        ControlWords.Failure("unknown report \(TerminalText.escaped(word)); rtty-shell sends refused or login-failed")
    }
}

/// The longest request line the control and report sockets read (RequestServer), which
/// rtty-shell keeps its reports under.
public enum RequestLine {
    public static let maxBytes = 4096
}
