/// After rttyd was killed (SIGKILL, power loss, a crash) its audit log has session-start
/// records with no session-end. On the next start the daemon closes them with an
/// "ended abnormally" record, so every session in the log has an end.
public enum AuditRecovery {
    public struct OpenSession: Equatable, Sendable {
        public var session: String
        public var console: String?
        public var uid: UInt32?
        public var user: String?
        public var from: String?
        public var started: String?
    }

    /// Sessions started and never ended, in the order they started, from the audit lines
    /// that decoded (the reader skips and counts the others).
    public static func openSessions(in records: some Sequence<AuditLine>) -> [OpenSession] {
        var open: [String: OpenSession] = [:]
        var order: [String] = []
        for record in records {
            guard let session = record.session else { continue }
            if record.event == AuditEvent.Kind.sessionStart.rawValue {
                open[session] = OpenSession(
                    session: session, console: record.console, uid: record.uid, user: record.user, from: record.from, started: record.time)
                order.append(session)
            } else if record.event == AuditEvent.Kind.sessionEnd.rawValue {
                open[session] = nil
            }
        }
        return order.compactMap { open[$0] }
    }

    /// The value of a top-level string or number field of one audit line (as rttyd writes
    /// them: no nesting), unescaped; nil if absent.
    public static func field(_ name: String, in line: Substring) -> String? {
        let key = Array("\"\(name)\":".utf8)
        let bytes = Array(line.utf8)
        guard let start = bytes.firstRange(of: key)?.upperBound, start < bytes.count else { return nil }
        if bytes[start] != UInt8(ascii: "\"") {
            let end = bytes[start...].firstIndex { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? bytes.count
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        var out: [UInt8] = []
        var i = start + 1
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                i += 1
                switch bytes[i] {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    if i + 4 < bytes.count, let v = UInt32(String(decoding: bytes[(i + 1)...(i + 4)], as: UTF8.self), radix: 16), let scalar = Unicode.Scalar(v) {
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                    }
                    i += 4
                default: out.append(bytes[i])
                }
            } else {
                out.append(b)
            }
            i += 1
        }
        return nil
    }
}
