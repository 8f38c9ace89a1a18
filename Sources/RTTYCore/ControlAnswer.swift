/// What rttyctl reads from the daemon's control answers (docs/PROTOCOL.md, "Control
/// socket"), decoded by a JSON decoder into these types rather than cast out of a
/// dictionary. Fields the daemon may leave out are optional; fields rttyctl does not show
/// are not listed (a decoder ignores them), so a newer daemon's extra fields do no harm.
public enum ControlAnswer {
    /// Every answer: `ok`, and when it is false, why.
    public struct Outcome: Decodable, Sendable {
        public var ok: Bool
        public var error: String?
    }

    /// `status` and `who`.
    public struct Consoles: Decodable, Sendable {
        public var consoles: [Console]
    }

    public struct Console: Decodable, Sendable {
        public var name: String
        public var state: String
        public var kind: String
        public var source: String
        public var settings: String
        /// Why the device is down, when it is.
        public var reason: String?
        public var clients: [Client]
    }

    public struct Client: Decodable, Sendable {
        public var session: String
        public var who: String
        public var uid: UInt32
        public var rights: String
        public var idle: Int
        /// The verified TCP peer.
        public var from: String?
        /// What an ssh login said its SSH_CONNECTION was (a claim, not checked).
        public var claimedFrom: String?

        enum CodingKeys: String, CodingKey {
            case session, who, uid, rights, idle, from
            case claimedFrom = "claimed_from"
        }
    }

    /// `kick`.
    public struct Kicked: Decodable, Sendable {
        public var kicked: Int
    }

    /// `set`: the settings the device holds now.
    public struct Settings: Decodable, Sendable {
        public var settings: String
    }

    /// `grant` and `revoke`: the ACL file, and whether it changed.
    public struct AccessChange: Decodable, Sendable {
        public var acl: String
        public var changed: Bool?
    }

    /// `reload`.
    public struct Reloaded: Decodable, Sendable {
        public var summary: String
        public var problems: [String]
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
