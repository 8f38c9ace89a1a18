import RTTYCore
import RTTYSystem

/// The report socket: rtty-shell (running as the console user, setgid to the socket group)
/// tells the daemon about a refused request or a failed login, so that the audit log, which
/// only rttyd writes, has it. The uid comes from the peer credentials, never from the line.
extension Daemon {
    static let maxReportField = 1024

    /// One report (ShellReportRequest; the old tab-separated line for one release).
    func shellReport(_ line: String, uid: UInt32) -> String {
        let report: ShellReportRequest
        do {
            report = try RequestDecoding.decode(line, as: ShellReportRequest.self) { line throws(ControlWords.Failure) in try ShellReportRequest(tabLine: line) }
        } catch {
            return ControlReply.error(error.description)
        }
        let kind: AuditEvent.Kind = report.event == .refused ? .refused : .loginFailed
        let user = Accounts.userName(uid) ?? "uid\(uid)"
        // Everything but the event is the shell user's to say: kept as a claim, sanitized.
        let (connection, command, reason) = (report.sshConnection, report.command, report.message)
        let sanitize = { (text: String) in ClientText.sanitized(text.utf8, limit: Daemon.maxReportField) }
        var event = AuditEvent(time: WallClock.now(), kind: kind, uid: uid, user: user)
        if let claimed = SessionMetadata.clientAddress(sanitize(connection)) {
            event.details.append(("claimed_from", .text(claimed)))
        } else if !connection.isEmpty {
            event.details.append(("problems", .text("SSH_CONNECTION \"\(sanitize(connection))\" is not ADDRESS PORT ADDRESS PORT")))
        }
        if !command.isEmpty { event.details.append(("command", .text(sanitize(command)))) }
        event.details.append(("reason", .text(sanitize(reason))))
        audit.record(event)
        logger.notice("rtty-shell: \(report.event.rawValue) for \(user): \(sanitize(reason))")
        return ControlReply.ok()
    }
}
