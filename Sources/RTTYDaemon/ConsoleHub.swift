import Logging
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem
import SystemPackage

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
    var settings: LineSettings
    var clients: [ClientSession] = []
    /// The consumers of the console's output (ConsoleHub+Output.swift): `sinksChanged`.
    var outputSinks: [OutputSink] = []
    let replaySink: ReplaySink
    var log: ConsoleLog?
    /// The console's recording (`transcript = true`), one for all its sessions.
    var recorder: Recorder?
    /// One per wire form, in `WireForm` order.
    lazy var clientOutputs: [ClientOutput] = WireForm.allCases.map { ClientOutput(form: $0, hub: self) }
    var source: OpenSource?
    var state: DeviceState = .down("not opened yet")
    var backoff = SourceBackoff()
    var reopenTimer: Scheduled<Void>?
    var listener: Channel?
    var tcpListener: Channel?
    var writeLockHolder: ClientSession?
    var stopped = false
    private var sessionCounter = 0
    var lastDescriptorWarning = -Double.infinity
    /// Input held back while the device cannot take more (flow control, slow line).
    var inputPaused = false
    /// Bytes written to the device and not yet taken (`deviceQueueLimit`).
    var deviceQueued = 0
    /// The line carries one BREAK at a time (ConsoleHub+Requests.swift).
    var breakInProgress = false
    /// The window size a client last gave an exec console, kept for its next run.
    var windowSize: (rows: Int, cols: Int)?
    /// The device number a device console last opened: a path that now names another
    /// device is said in the log (ConsoleSource.openSource).
    var openedDevice: UInt64?

    enum DeviceState {
        case up(since: Double)
        case down(String)

        var isUp: Bool {
            if case .up = self { return true }
            return false
        }

        var word: String { isUp ? "up" : "down" }
    }

    init(config: Config.Console, paths: Config.Paths, loop: EventLoop, access: AccessControl, audit: AuditLog, logger: Logger) {
        self.name = config.name
        self.config = config
        self.access = access
        self.audit = audit
        self.paths = paths
        self.loop = loop
        self.settings = config.settings
        self.replaySink = ReplaySink(capacity: config.replayBytes)
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
        openRecorder()
        return startListener().flatMap { self.startTCPListener() }.map {
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

    func startListener() -> EventLoopFuture<Void> {
        let gid: UInt32?
        switch SocketGroup.resolve(config.group) {
        case .success(let resolved): gid = resolved
        case .failure(let message):
            return loop.makeFailedFuture(DaemonError("console \(config.name): \(message)"))
        }
        let fd: SystemPackage.FileDescriptor
        do {
            fd = try UnixSocket.listen(path: socketPath, group: gid, mode: 0o660)
        } catch {
            return loop.makeFailedFuture(DaemonError("console \(config.name): cannot listen on \(socketPath): \(error)"))
        }
        let high = config.clientQueueBytes
        let listenFD = fd.rawValue
        return ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGuard(hub: self, listenFD: listenFD))
                }
            }
            .childChannelOption(.writeBufferWaterMark, value: .init(low: high / 2, high: high))
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(hub: self))
                }
            }
            .withBoundSocket(fd.rawValue)
            .map { channel in
                self.listener = channel
            }
    }

    /// Ends the console: clients are told why and closed, the device is released, the
    /// socket removed.
    func stop(reason notice: ClosingNotice) -> EventLoopFuture<Void> {
        let reason = notice.text
        loop.preconditionInEventLoop()
        stopped = true
        reopenTimer?.cancel()
        reopenTimer = nil
        stopWatchingForSource()
        for client in clients {
            client.endReason = reason
            client.close(notice: reason)
        }
        closeSource()
        log?.close()
        recorder?.close()
        let closed = (listener?.close() ?? loop.makeSucceededVoidFuture()).recover { _ in }.flatMap { self.stopTCPListener() }
        return closed.map {
            UnixSocket.remove(path: self.socketPath)
        }
    }

    /// Out of descriptors: said once a second at most, audited, never fatal.
    func outOfDescriptors(refused: Int, error: String) {
        let now = WallClock.monotonicSeconds()
        let warningDue = now - lastDescriptorWarning >= 1
        guard refused > 0 || warningDue else { return }
        if warningDue {
            lastDescriptorWarning = now
            logger.error("cannot accept clients: \(error); refused \(refused) waiting client(s) with a notice; raise LimitNOFILE / ulimit -n")
        }
        if refused > 0 {
            record(.denied, nil, ("reason", .text("out of file descriptors: \(refused) client(s) refused")))
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
        } else if let session {
            event.session = session.id
            event.uid = session.uid
            event.user = session.userName
        }
        event.details = details
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
        guard session.admitted, session.record == .pending else { return }
        session.record = .started
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

    /// After an ACL reload: end the sessions that lost their rights, downgrade the others.
    /// A TCP session answers to tcp_allow/tcp_rights, a socket session to the ACL.
    func recheckAccess() {
        for client in clients where client.admitted && !client.closing {
            let decision = client.peerHost.map(tcpDecision) ?? access.decide(uid: client.uid, console: config.name)
            switch decision.rights {
            case .none:
                client.endReason = "access revoked"
                logger.notice("ending \(client.id) of \(client.userName): access revoked (\(decision.why))")
                client.close(notice: ClosingNotice.revoked(console: config.name).text)
            case .ro where client.rights == .readWrite:
                logger.notice("\(client.id) of \(client.who) is now read-only (\(decision.why))")
                client.rights = .readOnly
                if writeLockHolder === client { writeLockHolder = nil }
                client.notice("your access to console \(config.name) is now read-only")
            default:
                break
            }
        }
    }

    func nextSessionID() -> String {
        sessionCounter += 1
        return "\(config.name)-\(Int(WallClock.monotonicSeconds() * 1000) % 100_000_000)-\(sessionCounter)"
    }

    // MARK: clients

    func attach(channel: Channel) -> ClientSession {
        loop.preconditionInEventLoop()
        let now = WallClock.monotonicSeconds()
        let session = ClientSession(
            id: nextSessionID(), channel: channel, uid: UInt32.max, pid: -1, userName: "?", now: now)
        // Detach when the channel closes, however that happens: a client that is gone
        // before its admission finishes (a write to it fails inside channelActive) must not
        // stay in `clients`, holding a slot of max_clients.
        channel.closeFuture.whenComplete { _ in self.detach(session) }
        peerCredentials(of: channel).whenComplete { result in
            switch result {
            case .success(let cred):
                self.admit(session, uid: cred.uid, pid: cred.pid)
            case .failure(let error):
                // Fail closed: without verified credentials nobody gets in.
                self.logger.warning("refused a client: cannot read its credentials: \(error)")
                session.close(notice: ClosingNotice.unverified.text)
            }
        }
        return session
    }

    private func admit(_ session: ClientSession, uid: UInt32, pid: Int32) {
        guard !session.closing, session.channel.isActive else { return }
        let decision = access.decide(uid: uid, console: config.name)
        session.verified(uid: uid, pid: pid, userName: decision.user)
        guard decision.rights != .none else {
            logger.warning("denied \(decision.user) (uid \(uid), pid \(pid)): \(decision.why)")
            record(.denied, session, ("reason", .text(decision.why)))
            session.close(notice: ClosingNotice.denied(user: decision.user, console: config.name).text)
            return
        }
        session.rights = decision.rights == .ro ? .readOnly : .readWrite
        let own = clients.count { $0.peerAddress == nil && $0.uid == uid }
        guard admissionAllows(session, privileged: decision.isAdmin(uid, group: config.adminGroup), ownSessions: own) else { return }
        enroll(session)
        session.notice("authorized")
        logger.info("client \(session.id) attached: \(session.userName) uid \(uid) pid \(pid)")
        session.replayTimer = loop.scheduleTask(in: ConsoleHub.replayGrace) {
            self.sendReplayIfDue(session)
        }
    }

    /// The client limits (`Admission`), for socket and TCP clients alike; a refusal is
    /// logged, audited and told to the client.
    func admissionAllows(_ session: ClientSession, privileged: Bool, ownSessions: Int) -> Bool {
        let limits = Admission.Limits(maxClients: config.maxClients, maxClientsPerUser: config.maxClientsPerUser)
        guard case .refuse(let why) = Admission.decide(privileged: privileged, ownSessions: ownSessions, clients: clients.count, limits: limits) else { return true }
        logger.warning("refused \(session.who) (pid \(session.pid)) on a console with \(clients.count) clients: \(why)")
        record(.denied, session, ("reason", .text(why)))
        session.close(notice: ClosingNotice.full(console: config.name, why: why).text)
        return false
    }

    /// A client that passed every check joins the console (socket or TCP alike).
    func enroll(_ session: ClientSession) {
        clients.append(session)
        session.admitted = true
        if inputPaused { reads(session, false) }  // joins the others in waiting for the device
    }

    /// Called once the client's channel has closed (registered on its close future in
    /// `attach`/`attachTCP`), however it closed.
    func detach(_ session: ClientSession) {
        loop.preconditionInEventLoop()
        session.closing = true
        session.replayTimer?.cancel()
        guard let index = clients.firstIndex(where: { $0 === session }) else { return }
        clients.remove(at: index)
        if writeLockHolder === session {
            writeLockHolder = nil
        }
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
        guard !session.closing else { return }
        logger.warning("client \(session.id) (\(session.who)) fell more than \(config.clientQueueBytes) bytes behind; cut off")
        // The notice cannot go through the full queue; closing is what matters.
        session.endReason = "too slow: more than \(config.clientQueueBytes) bytes behind"
        session.closing = true
        session.replayTimer?.cancel()
        session.channel.close(promise: nil)
        broadcast(notice: "\(session.who) was too slow and was disconnected", except: session)
    }

    /// The session begins to take output: its replay, then live output from its wire
    /// form's sink (whose pending output goes to the others first: the replay holds it).
    func sendReplayIfDue(_ session: ClientSession) {
        guard !session.replayDone, !session.closing else { return }
        if session.record == .pending { recordStart(session, replay: false) }
        clientOutput(session.wireForm).flush()
        session.replayDone = true
        session.replayTimer?.cancel()
        outputMembersChanged()
        let replayed = session.wantsReplay ? replay.count : 0
        if let recorder {
            session.recording?.view(from: max(recorder.runStart, recorder.offset - UInt64(min(replayed, Int(recorder.offset)))))
        }
        guard replayed > 0 else { return }
        send(data: replay.contents(), to: session)
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
        let old = config
        if old.source != new.source {
            stopWatchingForSource()  // the old path's watch
            windowSize = nil  // a new command starts at its configured size
        }
        config = new
        if old.replayBytes != new.replayBytes { replaySink.ring.resize(capacity: new.replayBytes) }
        if old.transcript != new.transcript {
            openRecorder()
        } else if old.recordKeepBytes != new.recordKeepBytes, let files = recorder?.files {
            LogWriter.shared.submit { files.keep(new.recordKeepBytes) }
        }
        if old.log != new.log || old.timestamps != new.timestamps || old.logMaxBytes != new.logMaxBytes || old.logKeep != new.logKeep {
            openLog()
        }
        if old.source != new.source || old.settings != new.settings {
            settings = new.settings
            closeSource()
            backoff = SourceBackoff()
            state = .down("reconfigured")
            broadcast(notice: "console reconfigured: \(new.source.describe), \(settings.short)")
            log?.mark("console reconfigured: \(new.source.describe), \(settings.short)")
            openSource()
        }
        // TCP port changed: a new listener; attached TCP clients keep their connections.
        let tcp = old.tcp == new.tcp && old.clientQueueBytes == new.clientQueueBytes
            ? loop.makeSucceededVoidFuture() : stopTCPListener().flatMap { self.startTCPListener() }
        guard old.group != new.group || old.clientQueueBytes != new.clientQueueBytes else { return tcp }
        // The socket must be recreated; attached clients keep their connections.
        let closing = listener?.close() ?? loop.makeSucceededVoidFuture()
        listener = nil
        return tcp.flatMap { closing.recover { _ in } }.flatMap { self.startListener() }
    }
}
