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

    public static func == (a: AuditEvent, b: AuditEvent) -> Bool { a.jsonLine() == b.jsonLine() }

    /// The record as one line of JSON, ending in "\n".
    public func jsonLine() -> String {
        var fields: [(String, String)] = [("time", quoted(time.iso8601)), ("event", quoted(kind.rawValue))]
        if let console { fields.append(("console", quoted(console))) }
        if let session { fields.append(("session", quoted(session))) }
        if let uid { fields.append(("uid", String(uid))) }
        if let user { fields.append(("user", quoted(user))) }
        if let from { fields.append(("from", quoted(from))) }
        for (key, value) in details {
            switch value {
            case .text(let text): fields.append((key, quoted(text)))
            case .number(let n): fields.append((key, String(n)))
            case .seconds(let s): fields.append((key, String(Double(Int(s * 1000)) / 1000)))
            }
        }
        return "{" + fields.map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
    }

    private func quoted(_ text: String) -> String { JSON.quote(text) }
}

/// The few JSON pieces rtty writes by hand (audit lines, control answers).
public enum JSON {
    public static func quote(_ text: String) -> String { "\"" + escape(text) + "\"" }

    /// The inside of a JSON string, without its quotes (answers streamed in chunks).
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    public static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    public static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}
