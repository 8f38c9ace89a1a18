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

    /// `sessions`, of one console and/or user: the session-start, session-info and
    /// session-end records (the last `maxSessionRecords`), and `skipped`: how many lines
    /// of the audit log are not records.
    func sessionRecords(console: String?, user: String?) -> RequestAnswer {
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

    /// `transcript SESSION`: the session as asciicast v2, assembled from its file and the
    /// console's recording (the last `maxTranscript` bytes of the output it saw), as one
    /// JSON string sent in chunks as the peer reads them.
    func transcript(_ session: String) -> RequestAnswer {
        guard ConsoleName.problem(session) == nil else { return .line(ControlReply.error("\(session) is not a session id; rttyctl sessions lists them")) }
        let path = RecordingPaths.session(config.paths.sessionDir, id: session)
        let recorded: Recording.Session
        do {
            recorded = try Self.readSession(path)
        } catch {
            return .line(ControlReply.error("no transcript for session \(session) (\(error)); rttyctl sessions lists them"))
        }
        let directory = RecordingPaths.directory(config.paths.sessionDir, console: recorded.header.console)
        let hub = hubTableSnapshot()[recorded.header.console]
        return .stream { writer in
            // What the console recorded up to now reaches the disk first.
            let (end, runStart) = try await hub?.loop.submit { () -> (UInt64, UInt64) in
                guard let recorder = hub?.recorder else { return (.max, 0) }
                recorder.flush()
                return (recorder.offset, recorder.runStart)
            }.get() ?? (.max, 0)
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in LogWriter.shared.submit { done.resume() } }
            var cast = Recording.CastAssembler(recorded, recorded: end, runStart: runStart, maxBytes: UInt64(Daemon.maxTranscript))
            try await writer.write("{\"ok\":true,\"path\":\(JSON.quote(path)),\"cast\":\"")
            var pending = JSON.escape(cast.header(timestamp: Int(recorded.started / 1_000_000)))
            let segments = RecordingPaths.segments(in: directory)
            for (index, segment) in segments.enumerated() {
                let next = index + 1 < segments.count ? segments[index + 1].offset : UInt64.max
                guard next > cast.span.lowerBound, segment.offset < cast.span.upperBound else { continue }
                guard let file = try? ReadableFile(directory + "/" + segment.entry.name) else { continue }
                var parser = Recording.Parser()
                var at: Int64 = 0
                reading: while true {
                    let chunk = try file.read(at: at, count: AnswerWriter.chunkBytes * 4)
                    if chunk.isEmpty { break }
                    at += Int64(chunk.count)
                    parser.append(chunk)
                    while let record = parser.next() {
                        if record.offset >= cast.span.upperBound { break reading }
                        pending += JSON.escape(cast.output(record))
                        if pending.utf8.count >= AnswerWriter.chunkBytes {
                            try await writer.write(pending)
                            pending = ""
                        }
                    }
                }
            }
            try await writer.write(pending + JSON.escape(cast.finish()) + "\"}\n")
        }
    }

    /// A session file, read whole: it holds a header and input only (bounded).
    static func readSession(_ path: String) throws -> Recording.Session {
        let file = try ReadableFile(path)
        var parser = Recording.Parser()
        var records: [Recording.Record] = []
        var at: Int64 = 0
        while true {
            let chunk = try file.read(at: at, count: 1 << 20)
            if chunk.isEmpty { break }
            at += Int64(chunk.count)
            parser.append(chunk)
            while let record = parser.next() { records.append(record) }
        }
        guard let session = Recording.Session(records: records) else {
            throw DaemonError(parser.broken ?? "not a session recording")
        }
        return session
    }
}
