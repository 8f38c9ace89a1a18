import RTTYCore
import RTTYSystem

/// rttyctl sessions and replay: answered from the audit log and the transcripts, which are
/// root-only files, so that members of the admin group can read them through the daemon.
/// Both are streamed from the file in chunks as the peer reads them (RequestServer), never
/// built whole: ten unread answers of a 64 MiB transcript once held 616 MB.
extension Daemon {
    static let maxAuditScan = 64 << 20
    static let maxTranscript = 64 << 20
    static let maxSessionRecords = 5000
    static let sessionEvents: [AuditEvent.Kind] = [.sessionStart, .sessionInfo, .sessionEnd]

    /// `sessions [console=NAME] [user=NAME]`: the session-start, session-info and
    /// session-end records (the last `maxSessionRecords`), and `skipped`: how many lines
    /// of the audit log are not records.
    func sessionRecords(_ args: [String]) -> RequestAnswer {
        var console: String?
        var user: String?
        for arg in args {
            let parts = arg.split(separator: "=", maxSplits: 1).map(String.init)
            switch parts.count == 2 ? parts[0] : "" {
            case "console": console = parts[1]
            case "user": user = parts[1]
            default: return .line(ControlReply.error("sessions takes console=NAME and user=NAME, not \(arg)"))
            }
        }
        let file: ReadableFile
        var found: [(offset: Int64, length: Int)] = []
        let skipped: Int
        do {
            file = try ReadableFile(config.paths.auditLog)
            // Where the records are, not the records: at most maxSessionRecords places.
            skipped = try AuditReader.scan(file, maxBytes: Daemon.maxAuditScan) { record, offset, length in
                guard let kind = record.kind, Daemon.sessionEvents.contains(kind), console.map({ $0 == record.console }) ?? true, user.map({ $0 == record.user }) ?? true else { return }
                found.append((offset, length))
                if found.count >= 2 * Daemon.maxSessionRecords { found.removeFirst(found.count - Daemon.maxSessionRecords) }
            }
        } catch {
            return .line(ControlReply.error("cannot read the audit log: \(error)"))
        }
        let records = found.suffix(Daemon.maxSessionRecords)
        return .stream { writer in
            var pending = Array("{\"ok\":true,\"records\":[".utf8)
            for (index, place) in records.enumerated() {
                if index > 0 { pending.append(UInt8(ascii: ",")) }
                pending += try file.read(at: place.offset, count: place.length)
                if pending.count >= AnswerWriter.chunkBytes {
                    try await writer.write(pending)
                    pending = []
                }
            }
            try await writer.write(pending + Array("],\"skipped\":\(skipped)}\n".utf8))
        }
    }

    /// `transcript SESSION`: the session's asciicast file (its last `maxTranscript` bytes),
    /// as one JSON string sent in chunks.
    func transcript(_ session: String) -> RequestAnswer {
        guard ConsoleName.problem(session) == nil else { return .line(ControlReply.error("\(session) is not a session id; rttyctl sessions lists them")) }
        let path = config.paths.sessionDir + "/" + session + ".cast"
        let file: ReadableFile
        let size: Int64
        do {
            file = try ReadableFile(path)
            size = try file.identity().size
        } catch {
            return .line(ControlReply.error("no transcript for session \(session) (\(error)); rttyctl sessions lists them"))
        }
        return .stream { writer in
            var offset = max(0, size - Int64(Daemon.maxTranscript))
            if offset > 0 {
                // Played from its end: from the first whole line.
                let head = try file.read(at: offset, count: AuditReader.maxLine)
                offset += Int64((head.firstIndex(of: 10) ?? -1) + 1)
            }
            var text = Asciicast.Stream()
            try await writer.write("{\"ok\":true,\"path\":\(JSON.quote(path)),\"cast\":\"")
            while offset < size {
                let chunk = try file.read(at: offset, count: min(AnswerWriter.chunkBytes, Int(size - offset)))
                guard !chunk.isEmpty else { break }
                offset += Int64(chunk.count)
                try await writer.write(text.escape(chunk))
            }
            try await writer.write("\"}\n")
        }
    }
}
