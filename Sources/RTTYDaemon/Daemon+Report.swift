import RTTYCore
import RTTYSystem

/// The report socket: rtty-shell (running as the console user, setgid to the socket group)
/// tells the daemon about a refused request or a failed login, so that the audit log, which
/// only rttyd writes, has it. The uid comes from the peer credentials, never from the line.
extension Daemon {
    static let maxReportField = 1024

    /// One line: EVENT TAB SSH_CONNECTION TAB COMMAND TAB MESSAGE.
    func shellReport(_ line: String, uid: UInt32) -> String {
        let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4 else { return ControlReply.error("a report is EVENT<tab>SSH_CONNECTION<tab>COMMAND<tab>MESSAGE") }
        let kind: AuditEvent.Kind
        switch fields[0] {
        case "refused": kind = .refused
        case "login-failed": kind = .loginFailed
        default: return ControlReply.error("unknown report \(fields[0]); rtty-shell sends refused or login-failed")
        }
        let user = Accounts.userName(uid) ?? "uid\(uid)"
        // Everything but the event word is the shell user's to say: kept as a claim, sanitized.
        let sanitized = fields.map { ClientText.sanitized($0.utf8, limit: Daemon.maxReportField) }
        var event = AuditEvent(time: WallClock.now(), kind: kind, uid: uid, user: user)
        if let claimed = SessionMetadata.clientAddress(sanitized[1]) {
            event.details.append(("claimed_from", .text(claimed)))
        } else if !fields[1].isEmpty {
            event.details.append(("problems", .text("SSH_CONNECTION \"\(sanitized[1])\" is not ADDRESS PORT ADDRESS PORT")))
        }
        if !fields[2].isEmpty { event.details.append(("command", .text(sanitized[2]))) }
        event.details.append(("reason", .text(sanitized[3])))
        audit.record(event)
        logger.notice("rtty-shell: \(fields[0]) for \(user): \(sanitized[3])")
        return ControlReply.ok()
    }
}
