/// One line of audit.jsonl as its readers need it (`rttyctl sessions`, and the recovery of
/// sessions a killed daemon left open). Decoded by a JSON decoder, never by matching
/// substrings: a line that does not decode as a record (two merged by a full disk, one cut
/// short, a field of the wrong type) is skipped and counted by the reader, not guessed at.
public struct AuditLine: Decodable, Equatable, Sendable {
    public var time: String?
    public var event: String
    public var session: String?
    public var console: String?
    public var uid: UInt32?
    public var user: String?
    public var from: String?

    /// The event as a kind this daemon writes; nil for one it does not know (a newer
    /// daemon's), which no reader here acts on.
    public var kind: AuditEvent.Kind? { AuditEvent.Kind(rawValue: event) }
}
