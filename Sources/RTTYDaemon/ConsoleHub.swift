import Logging
import NIOCore
import RTTYCore
import RTTYSystem

/// One console: its device, its clients, its replay buffer and its log. Every method runs
/// on `loop`; the daemon reaches it only through `loop.execute`/`submit`, so no locks.
final class ConsoleHub: @unchecked Sendable {
    static let tailBytes = 1024
    static let replayGrace = TimeAmount.milliseconds(300)

    let loop: EventLoop
    let logger: Logger
    let access: AccessControl
    let audit: AuditLog
    /// The console's name never changes (a reload matches consoles by name), so it may be
    /// read from any thread; `config` and everything else below, on `loop` only.
    let name: String
    var config: Config.Console
    let paths: Config.Paths
    /// The parts, each a type with its own private state, on `loop` (docs/ARCHITECTURE.md):
    /// the socket and TCP port; who is attached, the write lock and input held back (filled
    /// only by the one admission path, ConsoleHub+Admission.swift); the source kept open;
    /// the line.
    private(set) lazy var listeners = ConsoleListeners(hub: self)
    let roster = ClientRoster()
    private(set) lazy var supervisor = SourceSupervisor(hub: self)
    let line: LineControl
    /// Reads a Unix-socket client's credentials from its socket; tests give their own.
    let credentials: (Channel) -> EventLoopFuture<PeerCredentials>
    var settings: LineSettings { line.settings }
    var clients: [ClientSession] { roster.clients }
    var replay: ReplayRing
    var log: ConsoleLog?
    var transcriptFlush: Scheduled<Void>?
    /// Device output of the current burst, not yet sent (ConsoleHub+Output.swift).
    var pending = PendingOutput()
    /// The buffers of the last flush, emptied, for the next one.
    var spareOutput: PendingOutput?
    var lastReadWasFull = false
    var outputFlush: Scheduled<Void>?
    /// Device output as JSON text for transcripts, quoted once for all sessions.
    var transcriptOutput = Asciicast.Stream()
    /// Keeps this console's transcripts under transcript_keep_bytes (Transcript.swift).
    var transcriptRetention = TranscriptRetention()
    /// This console's Prometheus series (ConsoleMetrics.swift): nil unless metrics are served.
    var metrics: ConsoleMetrics?
    /// This console's triggers (TriggerSink.swift); nil without any.
    var triggers: TriggerSink?

    init(
        config: Config.Console, paths: Config.Paths, loop: EventLoop, access: AccessControl, audit: AuditLog, logger: Logger,
        credentials: @escaping (Channel) -> EventLoopFuture<PeerCredentials> = peerCredentials(of:)
    ) {
        self.name = config.name
        self.credentials = credentials
        self.config = config
        self.access = access
        self.audit = audit
        self.paths = paths
        self.loop = loop
        self.line = LineControl(settings: config.settings)
        self.replay = ReplayRing(capacity: config.replayBytes)
        var logger = logger
        logger[metadataKey: "console"] = "\(config.name)"
        self.logger = logger
    }

    var socketPath: String { paths.socketDir + "/" + config.name }
    var logPath: String { paths.logDir + "/" + config.name + ".log" }

    // MARK: start and stop

    /// Creates the socket and starts opening the source. The socket comes first so the
    /// console is listed (and clients can wait) even while its device is missing.
    func start() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        openLog()
        triggers = TriggerSink.make(for: self)
        return listeners.startUnix().flatMap { self.listeners.startTCP() }.map {
            self.openSource()
        }
    }

    func openLog() {
        log?.close()
        log = nil
        guard config.log else { return }
        log = ConsoleLog(
            path: logPath, timestamps: config.timestamps, maxBytes: config.logMaxBytes,
            keep: config.logKeep, logger: logger)
    }

    /// Ends the console: clients are told why and closed, the device is released, the
    /// socket removed.
    func stop(reason notice: ClosingNotice) -> EventLoopFuture<Void> {
        let reason = notice.text
        loop.preconditionInEventLoop()
        for client in clients {
            client.endReason = reason
            client.close(notice: reason)
        }
        supervisor.stop()
        log?.close()
        let closed = listeners.stopUnix().flatMap { self.listeners.stopTCP() }
        return closed.map {
            UnixSocket.remove(path: self.socketPath)
        }
    }

    /// An audit record about this console, and a client of it when given.
    func record(_ kind: AuditEvent.Kind, _ session: ClientSession? = nil, _ details: (String, AuditEvent.Detail)...) {
        record(kind, session, details)
    }

    func record(_ kind: AuditEvent.Kind, _ session: ClientSession?, _ details: [(String, AuditEvent.Detail)]) {
        var event = AuditEvent(time: WallClock.now(), kind: kind, console: config.name)
        if let session, let peer = session.peerAddress {
            event.session = session.id
            event.user = "tcp"
            event.from = peer
        } else if let session, !session.isVerified {
            event.session = session.id
        } else if let session {
            event.session = session.id
            event.uid = session.uid
            event.user = session.userName
        }
        event.details = details
        metrics?.audited(kind)
        audit.record(event)
    }

    /// The session-start record, with the verified uid. It is written when the session
    /// first counts: its first frame that is not a probe HELLO (before that frame takes
    /// effect), the end of the replay grace, or its end, whichever comes first. So no input
    /// reaches the device before it, a client that never says who it is is recorded all
    /// the same, and a console listing (`rtty` alone: a probe HELLO, then goodbye) is no
    /// session. What the client claims about itself follows in `session-info`.
    func recordStart(_ session: ClientSession) {
        guard session.putOnRecord() else { return }
        var details: [(String, AuditEvent.Detail)] = [("rights", .text(session.rights.rawValue)), ("pid", .number(Int(session.pid)))]
        // Read-only sessions are not recorded: all they could see is in the console log.
        if config.transcript, !session.closing, session.rights == .readWrite {
            let open = Set(clients.compactMap { $0.transcript?.path })
            transcriptRetention.prune(directory: paths.sessionDir, console: config.name, keep: config.transcriptKeepBytes, open: open, logger: logger)
            let transcript = Transcript(directory: paths.sessionDir, session: session.id, maxBytes: config.transcriptMaxBytes, logger: logger)
            if transcript.begin(header: transcriptHeader(session)) {
                session.transcript = transcript
                details.append(("transcript", .text(transcript.path)))
            }
        }
        record(.sessionStart, session, details)
    }

    /// METADATA, accepted once per session: a client cannot rewrite what it claimed (nor
    /// fill the audit log by repeating it). Problems with it are told to the client.
    func recordMetadata(_ metadata: SessionMetadata, from session: ClientSession) {
        guard session.metadata == nil else {
            session.refuse("metadata was already sent for this session; ignored")
            return
        }
        session.metadata = metadata
        for problem in metadata.problems { session.refuse(problem) }
        recordStart(session)
        record(.sessionInfo, session, metadata.auditDetails.map { ($0.0, .text($0.1)) })
    }

    private func transcriptHeader(_ session: ClientSession) -> String {
        var size = (cols: 80, rows: 24)
        if case .exec(_, let rows, let cols) = config.source { size = (cols, rows) }
        return Asciicast.header(
            width: size.cols, height: size.rows, timestamp: Int(WallClock.now().seconds),
            title: "\(session.userName) on \(config.name), session \(session.id)", environment: [("TERM", "xterm")])
    }

    /// Writes what the transcripts collected; called soon after output or input arrives.
    func scheduleTranscriptFlush() {
        guard transcriptFlush == nil else { return }
        transcriptFlush = loop.scheduleTask(in: .milliseconds(250)) {
            self.transcriptFlush = nil
            for client in self.clients { client.transcript?.flush() }
        }
    }

    // MARK: clients

    /// Called once the client's channel has closed (registered on its close future in
    /// `attach`/`attachTCP`), however it closed.
    func detach(_ session: ClientSession) {
        loop.preconditionInEventLoop()
        session.markClosing()
        session.replayTimer?.cancel()
        guard roster.remove(session) else { return }
        logger.info("client \(session.id) left: \(session.who), \(session.bytesIn) bytes in, \(session.bytesOut) bytes out")
        recordStart(session)
        endRuns(of: session)
        var details: [(String, AuditEvent.Detail)] = [
            ("reason", .text(session.endReason ?? "client closed")),
            ("duration", .seconds(WallClock.monotonicSeconds() - session.connectedAt)),
            ("bytes_in", .number(session.bytesIn)), ("bytes_out", .number(session.bytesOut)),
        ]
        if let transcript = session.transcript {
            switch transcript.finish() {
            case .kept: transcriptRetention.wrote(transcript.size)
            case .cut(let kind):
                transcriptRetention.wrote(transcript.size)
                details.append(("transcript", .text("\(kind) cut at half of transcript_max_bytes \(config.transcriptMaxBytes)")))
            case .removedNoInput: details.append(("transcript", .text("removed: the session typed nothing")))
            case .failed: details.append(("transcript", .text("stopped by a write error")))
            }
            session.transcript = nil
        }
        guard session.isOnRecord else { return }  // a probe
        record(.sessionEnd, session, details)
        if session.identity != nil && !session.isProbe {
            broadcast(notice: "\(session.who) disconnected")
        }
    }

    func protocolError(_ session: ClientSession, _ what: String) {
        session.endReason = "protocol error: \(what)"
        logger.warning("client \(session.id) (\(session.who)) broke the protocol: \(what)")
        session.close(notice: ClosingNotice.protocolError(what).text)
    }

    func tooSlow(_ session: ClientSession) {
        loop.preconditionInEventLoop()
        guard !session.closing else { return }
        logger.warning("client \(session.id) (\(session.who)) fell more than \(config.clientQueueBytes) bytes behind; cut off")
        // The notice cannot go through the full queue; closing is what matters.
        session.endReason = "too slow: more than \(config.clientQueueBytes) bytes behind"
        metrics?.cutOffs.increment()
        session.markClosing()
        session.replayTimer?.cancel()
        session.channel.close(promise: nil)
        broadcast(notice: "\(session.who) was too slow and was disconnected", except: session)
    }

    func sendReplayIfDue(_ session: ClientSession) {
        guard !session.replayDone, !session.closing else { return }
        recordStart(session)
        flushOutput()  // to the others: the replay below already holds it
        session.replayDone = true
        session.replayTimer?.cancel()
        guard session.wantsReplay, replay.count > 0 else { return }
        let contents = replay.contents()
        send(data: contents, to: session)
        if let transcript = session.transcript {
            var stream = Asciicast.Stream()
            transcript.output(quoted: stream.quote(contents))
        }
    }

    func send(data bytes: [UInt8], to session: ClientSession) {
        session.send(console: session.channel.allocator.buffer(bytes: bytes).readableBytesView)
    }

    func broadcast(notice text: String, except excluded: ClientSession? = nil) {
        guard !clients.isEmpty else { return }
        flushOutput()
        let notice = FrameWriter.Notice(text, allocator: clients[0].channel.allocator)
        for client in clients where client !== excluded && client.identity != nil {
            client.send(notice)
        }
    }

    /// Extension frame to rtty/1 clients only.
    func broadcastExtended(_ frame: Frame) {
        flushOutput()
        for client in clients where client.extended {
            client.send(frame)
        }
    }
}

struct DaemonError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ConsoleHub {
    /// A reload changed this console: apply what changed, keep the clients attached.
    func reconfigure(_ new: Config.Console) -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        let old = config
        if old.source != new.source {
            supervisor.stopWatching()  // the old path's watch
            line.forgetWindowSize()  // a new command starts at its configured size
        }
        config = new
        if old.replayBytes != new.replayBytes { replay.resize(capacity: new.replayBytes) }
        if old.triggers != new.triggers || old.log != new.log { triggers = TriggerSink.make(for: self, replacing: triggers) }
        if old.log != new.log || old.timestamps != new.timestamps || old.logMaxBytes != new.logMaxBytes || old.logKeep != new.logKeep {
            openLog()
        }
        if old.source != new.source || old.settings != new.settings {
            line.reset(to: new.settings)
            supervisor.restart()
            broadcast(notice: "console reconfigured: \(new.source.describe), \(settings.short)")
            log?.mark("console reconfigured: \(new.source.describe), \(settings.short)")
            openSource()
        }
        // TCP port changed: a new listener; attached TCP clients keep their connections.
        let tcp = old.tcp == new.tcp && old.clientQueueBytes == new.clientQueueBytes
            ? loop.makeSucceededVoidFuture() : listeners.stopTCP().flatMap { self.listeners.startTCP() }
        guard old.group != new.group || old.clientQueueBytes != new.clientQueueBytes else { return tcp }
        // The socket must be recreated; attached clients keep their connections.
        let closing = listeners.stopUnix()
        return tcp.flatMap { closing }.flatMap { self.listeners.startUnix() }
    }
}
