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
            if record.kind == .sessionStart {
                open[session] = OpenSession(
                    session: session, console: record.console, uid: record.uid, user: record.user, from: record.from, started: record.time)
                order.append(session)
            } else if record.kind == .sessionEnd {
                open[session] = nil
            }
        }
        return order.compactMap { open[$0] }
    }
}
