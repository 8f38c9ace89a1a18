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
    /// The consumers of the console's output (ConsoleHub+Output.swift): `sinksChanged`.
    var outputSinks: [OutputSink] = []
    let replaySink: ReplaySink
    var log: ConsoleLog?
    /// The console's recording (`transcript = true`), one for all its sessions.
    var recorder: Recorder?
    /// One per wire form, in `WireForm` order.
    lazy var clientOutputs: [ClientOutput] = WireForm.allCases.map { ClientOutput(form: $0, hub: self) }
    /// This console's Prometheus series (ConsoleMetrics.swift): nil unless metrics are served.
    var metrics: ConsoleMetrics? { didSet { sinksChanged() } }
    /// This console's triggers (TriggerSink.swift); nil without any.
    var triggers: TriggerSink? { didSet { sinksChanged() } }

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
        self.replaySink = ReplaySink(capacity: config.replayBytes)
        var logger = logger
        logger[metadataKey: "console"] = "\(config.name)"
        self.logger = logger
        sinksChanged()  // the replay ring and the client sinks; the log and recorder at start
    }

    var socketPath: String { paths.socketDir + "/" + config.name }
    var logPath: String { paths.logDir + "/" + config.name + ".log" }

    // MARK: start and stop

    /// Creates the socket and starts opening the source. The socket comes first so the
    /// console is listed (and clients can wait) even while its device is missing.
    func start() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        openLog()
        openRecorder()
        triggers = TriggerSink.make(for: self)
        return listeners.startUnix().flatMap { self.listeners.startTCP() }.map {
            self.openSource()
        }
    }

    func openLog() {
        log?.close()
        log = nil
        guard config.log else { return sinksChanged() }
        log = ConsoleLog(
            path: logPath, timestamps: config.timestamps, maxBytes: config.logMaxBytes,
            keep: config.logKeep, loop: loop, logger: logger)
        sinksChanged()
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
        recorder?.close()
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
    /// Once on record, a session gets its replay (and from then on live output) at once,
    /// unless `replay` is false: a HELLO answers first and then sends it itself.
    func recordStart(_ session: ClientSession, replay: Bool = true) {
        guard session.putOnRecord() else { return }
        var details: [(String, AuditEvent.Detail)] = [("rights", .text(session.rights.rawValue)), ("pid", .number(Int(session.pid)))]
        // Read-only sessions are not recorded: all they could see is in the console's
        // recording and log.
        if let recorder, !session.closing, session.rights == .readWrite {
            let recording = SessionRecording(
                sessionDir: paths.sessionDir, header: recordingHeader(session), offset: recorder.offset,
                inputLimit: config.recordKeepBytes / 32, files: recorder.files, loop: loop, logger: logger)
            session.recording = recording
            details.append(("transcript", .text(recording.path)))
        }
        record(.sessionStart, session, details)
        if replay { sendReplayIfDue(session) }
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

    private func recordingHeader(_ session: ClientSession) -> Recording.Header {
        var size = (cols: 80, rows: 24)
        if case .exec(_, let rows, let cols) = config.source { size = (cols, rows) }
        return Recording.Header(
            console: config.name, session: session.id, title: "\(session.userName) on \(config.name), session \(session.id)",
            width: size.cols, height: size.rows)
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
        outputMembersChanged()
        if let recording = session.recording {
            recorder?.flush()  // the output it saw is on disk before its end is
            switch recording.finish(at: recorder?.offset ?? 0) {
            case .kept: break
            case .inputCut: details.append(("transcript", .text("input cut at 1/32 of record_keep_bytes \(config.recordKeepBytes)")))
            case .removedNoInput: details.append(("transcript", .text("removed: the session typed nothing")))
            }
            session.recording = nil
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

    /// The session begins to take output: its replay, then live output from its wire
    /// form's sink (whose pending output goes to the others first: the replay holds it).
    func sendReplayIfDue(_ session: ClientSession) {
        guard !session.replayDone, !session.closing else { return }
        if !session.isOnRecord { recordStart(session, replay: false) }
        guard session.isOnRecord else { return }  // not admitted, or a probe
        clientOutput(session.wireForm).flush()
        session.replayDone = true
        let replayed = session.wantsReplay ? replay.count : 0
        startLiveOutput(session, replayed: replayed)
        guard replayed > 0 else { return }
        send(data: replay.contents(), to: session)
    }

    /// HELLO with no-replay: live output only, from now on.
    func declineReplay(_ session: ClientSession) {
        guard !session.replayDone, !session.closing, session.isOnRecord else { return }
        clientOutput(session.wireForm).flush()
        session.declineReplay()
        startLiveOutput(session, replayed: 0)
    }

    /// The session joins its wire form's sink; its recorded view begins where the output
    /// it was given (replay included) began.
    private func startLiveOutput(_ session: ClientSession, replayed: Int) {
        session.replayTimer?.cancel()
        outputMembersChanged()
        if let recorder {
            session.recording?.view(from: max(recorder.runStart, recorder.offset - UInt64(min(replayed, Int(recorder.offset)))))
        }
    }

    func send(data bytes: [UInt8], to session: ClientSession) {
        session.send(console: session.channel.allocator.buffer(bytes: bytes).readableBytesView)
    }

    /// A notice to every client that said who it is, after the output it was already
    /// sent: each framed wire form's sink delivers it to its own clients.
    func broadcast(notice text: String, except excluded: ClientSession? = nil) {
        guard !clients.isEmpty else { return }
        let notice = FrameWriter.Notice(text, allocator: clients[0].channel.allocator)
        for form in WireForm.allCases where form.carriesFrames {
            clientOutput(form).deliver { client in
                if client !== excluded && client.identity != nil { client.send(notice) }
            }
        }
    }

    /// Extension frame to rtty/1 clients only.
    func broadcastExtended(_ frame: Frame) {
        clientOutput(.extended).deliver { $0.send(frame) }
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
        if old.replayBytes != new.replayBytes { replaySink.ring.resize(capacity: new.replayBytes) }
        if old.triggers != new.triggers || old.log != new.log { triggers = TriggerSink.make(for: self, replacing: triggers) }
        if old.transcript != new.transcript {
            openRecorder()
        } else if old.recordKeepBytes != new.recordKeepBytes, let files = recorder?.files {
            LogWriter.shared.submit { files.keep(new.recordKeepBytes) }
        }
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
