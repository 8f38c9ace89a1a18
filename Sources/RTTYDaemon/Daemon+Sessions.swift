import RTTYCore
import RTTYSystem

/// rttyctl sessions and replay: answered from the audit log and the transcripts, which are
/// root-only files, so that members of the admin group can read them through the daemon.
extension Daemon {
    static let maxAuditScan = 64 << 20
    static let maxTranscript = 64 << 20
    static let maxSessionRecords = 5000
    static let sessionEvents: [AuditEvent.Kind] = [.sessionStart, .sessionInfo, .sessionEnd]

    /// `sessions [console=NAME] [user=NAME]`: the session-start, session-info and
    /// session-end records.
    func sessionRecords(_ args: [String]) -> String {
        var needles: [String] = []
        for arg in args {
            let parts = arg.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["console", "user"].contains(parts[0]) else {
                return ControlReply.error("sessions takes console=NAME and user=NAME, not \(arg)")
            }
            needles.append("\"\(parts[0])\":\(JSON.quote(parts[1]))")
        }
        let text: String
        do {
            text = try TextFile.tail(config.paths.auditLog, maxBytes: Daemon.maxAuditScan)
        } catch {
            return ControlReply.error("cannot read the audit log: \(error)")
        }
        var records: [Substring] = []
        for line in text.split(separator: "\n") where line.hasPrefix("{") && line.hasSuffix("}") {
            guard Daemon.sessionEvents.contains(where: { line.contains("\"event\":\"\($0.rawValue)\"") }) else { continue }
            guard needles.allSatisfy({ line.contains($0) }) else { continue }
            records.append(line)
        }
        return ControlReply.ok([("records", "[" + records.suffix(Daemon.maxSessionRecords).joined(separator: ",") + "]")])
    }

    /// `transcript SESSION`: the session's asciicast file.
    func transcript(_ session: String) -> String {
        guard ConsoleName.problem(session) == nil else { return ControlReply.error("\(session) is not a session id; rttyctl sessions lists them") }
        let path = config.paths.sessionDir + "/" + session + ".cast"
        do {
            let cast = try TextFile.tail(path, maxBytes: Daemon.maxTranscript)
            return ControlReply.ok([("path", JSON.quote(path)), ("cast", JSON.quote(cast))])
        } catch {
            return ControlReply.error("no transcript for session \(session) (\(error)); rttyctl sessions lists them")
        }
    }
}
