/// The daemon's control answers (docs/PROTOCOL.md, "Control socket"): rttyd encodes these
/// types and rttyctl decodes the same ones, so the two ends cannot drift apart. Every
/// answer is one object with `ok`: a refusal is an `Outcome` with `error`, a success is
/// `Success(body)`, the body's fields beside `"ok":true`. Fields the daemon may leave out
/// are optional; a decoder ignores fields it does not know, so a newer daemon's extra
/// fields do no harm.
public enum ControlAnswer {
    /// Every answer: `ok`, and when it is false, why.
    public struct Outcome: Codable, Sendable {
        public var ok: Bool
        public var error: String?

        public init(ok: Bool, error: String? = nil) {
            self.ok = ok
            self.error = error
        }

        public static func failure(_ message: String) -> Outcome { Outcome(ok: false, error: message) }
    }

    /// `{"ok":true}` and the fields of `body` (none for `Empty`).
    public struct Success<Body: Encodable & Sendable>: Encodable, Sendable {
        public var body: Body

        public init(_ body: Body) { self.body = body }

        private enum Key: String, CodingKey { case ok }

        public func encode(to encoder: any Encoder) throws {
            try body.encode(to: encoder)
            var fields = encoder.container(keyedBy: Key.self)
            try fields.encode(true, forKey: .ok)
        }
    }

    /// The body of an answer that says nothing but `ok` (`break`, a report).
    public struct Empty: Codable, Sendable {
        public init() {}
    }

    /// `status` and `who`.
    public struct Consoles: Codable, Sendable {
        public var consoles: [Console]
        /// Audit copies syslog or the journal did not take (`audit_syslog`), since start.
        public var auditSyslogDropped: Int?

        public init(consoles: [Console], auditSyslogDropped: Int? = nil) {
            self.consoles = consoles
            self.auditSyslogDropped = auditSyslogDropped
        }

        enum CodingKeys: String, CodingKey {
            case consoles
            case auditSyslogDropped = "audit_syslog_dropped"
        }
    }

    public struct Console: Codable, Sendable {
        public var name: String
        public var state: String
        public var kind: String
        public var source: String
        public var settings: String
        /// The console's write policy.
        public var policy: String
        /// Why the device is down, when it is.
        public var reason: String?
        public var clients: [Client]

        public init(name: String, state: String, kind: String, source: String, settings: String, policy: String, reason: String?, clients: [Client]) {
            self.name = name
            self.state = state
            self.kind = kind
            self.source = source
            self.settings = settings
            self.policy = policy
            self.reason = reason
            self.clients = clients
        }
    }

    public struct Client: Codable, Sendable {
        public var session: String
        /// The account the kernel reported for the connection.
        public var user: String
        /// What the client said it is (WHOSON), sanitized.
        public var who: String
        public var uid: UInt32
        public var rights: String
        /// Seconds since its last input, and since it connected.
        public var idle: Int
        public var connected: Int
        public var bytesIn: Int
        public var bytesOut: Int
        /// The verified TCP peer.
        public var from: String?
        /// What an ssh login said its SSH_CONNECTION was (a claim, not checked).
        public var claimedFrom: String?

        enum CodingKeys: String, CodingKey {
            case session, user, who, uid, rights, idle, connected, from
            case bytesIn = "bytes_in"
            case bytesOut = "bytes_out"
            case claimedFrom = "claimed_from"
        }

        public init(
            session: String, user: String, who: String, uid: UInt32, rights: String, idle: Int, connected: Int, bytesIn: Int, bytesOut: Int,
            from: String?, claimedFrom: String?
        ) {
            self.session = session
            self.user = user
            self.who = who
            self.uid = uid
            self.rights = rights
            self.idle = idle
            self.connected = connected
            self.bytesIn = bytesIn
            self.bytesOut = bytesOut
            self.from = from
            self.claimedFrom = claimedFrom
        }
    }

    /// `kick`.
    public struct Kicked: Codable, Sendable {
        public var kicked: Int

        public init(kicked: Int) { self.kicked = kicked }
    }

    /// `set`: the settings the device holds now.
    public struct Settings: Codable, Sendable {
        public var settings: String

        public init(settings: String) { self.settings = settings }
    }

    /// `grant` and `revoke`: the ACL file, and whether it changed.
    public struct AccessChange: Codable, Sendable {
        public var acl: String
        public var changed: Bool?

        public init(acl: String, changed: Bool) {
            self.acl = acl
            self.changed = changed
        }
    }

    /// `reload`.
    public struct Reloaded: Codable, Sendable {
        public var summary: String
        public var problems: [String]

        public init(summary: String, problems: [String]) {
            self.summary = summary
            self.problems = problems
        }
    }

    /// The first line of a `log` answer; the log's bytes follow it as they are.
    public struct LogHeader: Codable, Sendable {
        public var path: String

        public init(path: String) { self.path = path }
    }

    /// `sessions`: audit records, and how many audit lines the daemon skipped.
    public struct SessionRecords: Decodable, Sendable {
        public var records: [SessionRecord]
        public var skipped: Int?
    }

    /// One session-start, session-info or session-end record (docs/PROTOCOL.md, "Audit").
    public struct SessionRecord: Decodable, Sendable {
        public var time: String?
        public var event: String
        public var session: String?
        public var console: String?
        public var user: String?
        public var from: String?
        public var claimedFrom: String?
        public var duration: Double?
        public var bytesIn: Int?
        public var bytesOut: Int?
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case time, event, session, console, user, from, duration, reason
            case claimedFrom = "claimed_from"
            case bytesIn = "bytes_in"
            case bytesOut = "bytes_out"
        }
    }

    /// `transcript`: the asciicast v2 file.
    public struct Transcript: Decodable, Sendable {
        public var cast: String
    }

    /// One event line of an asciicast v2 file: `[time, "o"|"i", text]`.
    public struct CastEvent: Decodable, Sendable {
        public var time: Double
        public var kind: String
        public var text: String

        public init(from decoder: any Decoder) throws {
            var fields = try decoder.unkeyedContainer()
            time = try fields.decode(Double.self)
            kind = try fields.decode(String.self)
            text = try fields.decode(String.self)
            guard fields.isAtEnd else {
                throw DecodingError.dataCorruptedError(in: fields, debugDescription: "an event has three fields")
            }
        }
    }
}
