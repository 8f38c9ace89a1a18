/// One audit record (one JSON object per line in audit.jsonl). Written only by rttyd.
public struct AuditEvent: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case sessionStart = "session-start"
        case sessionEnd = "session-end"
        /// What a session's client claims about itself (METADATA: claimed_from, ssh_tty,
        /// term, command), after its session-start.
        case sessionInfo = "session-info"
        case denied
        case breakSent = "break"
        case settings
        case deviceLost = "device-lost"
        case deviceBack = "device-back"
        case reload
        case kick
        /// rtty-shell refused a request that is not a console (sftp, a command, ...).
        case refused
        /// rtty-shell's PAM step failed.
        case loginFailed = "login-failed"
        case grant
        case revoke
        /// A trigger matched a line of console output (TriggerSink).
        case trigger
        /// A trigger's command ended: its exit status, or why it did not run.
        case triggerCommand = "trigger-command"
    }

    public var time: Timestamp
    public var kind: Kind
    public var console: String?
    public var session: String?
    public var uid: UInt32?
    public var user: String?
    /// The client's address and port as the kernel reports it (TCP sessions). What an ssh
    /// session claims (SSH_CONNECTION) is never here: it is `claimed_from`, a detail.
    public var from: String?
    /// Further fields in a fixed order (reason, bytes, duration, settings, ...).
    public var details: [(String, Detail)] = []

    public enum Detail: Equatable, Sendable {
        case text(String)
        case number(Int)
        case seconds(Double)
    }

    public init(time: Timestamp, kind: Kind, console: String? = nil, session: String? = nil, uid: UInt32? = nil, user: String? = nil, from: String? = nil) {
        self.time = time
        self.kind = kind
        self.console = console
        self.session = session
        self.uid = uid
        self.user = user
        self.from = from
    }

    public static func == (a: AuditEvent, b: AuditEvent) -> Bool {
        a.time == b.time && a.kind == b.kind && a.console == b.console && a.session == b.session && a.uid == b.uid && a.user == b.user
            && a.from == b.from && a.details.elementsEqual(b.details) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

/// One JSON object per record, written by rttyd's JSON encoder (audit.jsonl, docs/PROTOCOL.md
/// "Audit"): `time` and `event`, the fields that are set, then the details. Read back as
/// `AuditLine`, by a JSON decoder.
extension AuditEvent: Encodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: Key.self)
        try fields.encode(time.iso8601, forKey: Key("time"))
        try fields.encode(kind.rawValue, forKey: Key("event"))
        try fields.encodeIfPresent(console, forKey: Key("console"))
        try fields.encodeIfPresent(session, forKey: Key("session"))
        try fields.encodeIfPresent(uid, forKey: Key("uid"))
        try fields.encodeIfPresent(user, forKey: Key("user"))
        try fields.encodeIfPresent(from, forKey: Key("from"))
        for (name, value) in details {
            switch value {
            case .text(let text): try fields.encode(text, forKey: Key(name))
            case .number(let n): try fields.encode(n, forKey: Key(name))
            // Milliseconds are enough for a person, and keep the line short.
            case .seconds(let s): try fields.encode(Double(Int(s * 1000)) / 1000, forKey: Key(name))
            }
        }
    }
}
