import NIOCore
import RTTYCore
import RTTYSystem

/// What the console does with each client request (docs/PROTOCOL.md).
extension ConsoleHub {
    /// Input accepted for the device but not yet taken by it. 1 MiB is over a minute of a
    /// fast paste at 115200 baud; the clients' own socket buffers hold what comes after.
    static let deviceQueueLimit = 1 << 20

    func handle(_ request: ClientRequest, payloadBytes: Int, from client: ClientSession) {
        loop.preconditionInEventLoop()
        guard roster.contains(client) else { return }
        // Whatever the client asks, its session is on record first (a HELLO records it
        // itself, once it knows whether this is a probe and what rights remain).
        if case .hello = request {} else { recordStart(client) }
        switch request {
        case .input(let bytes):
            input(bytes, from: client)
        case .identify(let identity):
            let first = client.identity == nil
            client.identity = identity
            sendReplayIfDue(client)
            if first { announce(client) }
        case .hello(let hello):
            greet(client, hello)
        case .queryWho:
            for other in clients where other.identity != nil && !other.isProbe {
                let idle = Int(WallClock.monotonicSeconds() - other.lastInput)
                client.notice("\(other.who) \(other.rights.rawValue) idle \(idle)s session \(other.id)")
            }
        case .queryTail:
            client.notice("tail+")
            send(data: replay.last(ConsoleHub.tailBytes), to: client)
            client.notice("tail-")
        case .queryVersion:
            client.notice("rttyd \(RTTYVersion.string) (\(RTTYVersion.protocolName))")
        case .queryBaud:
            client.send(Frame(.baud, query: true, value: settings.baud <= Int(UInt16.max) ? UInt16(settings.baud) : 0))
        case .queryParity:
            client.send(.withText(.parity, query: true, settings.parity.rawValue))
        case .queryWordSize:
            client.send(Frame(.wordSize, query: true, value: UInt16(settings.dataBits)))
        case .querySettings:
            client.send(.withText(.settings, query: true, settings.summary))
        case .setBaud(let rate):
            let ok = change("baud=\(rate)", by: client)
            client.send(Frame(.baud, value: ok ? 1 : 0))
        case .setParity(let name):
            let ok = change("parity=\(name)", by: client)
            client.send(Frame(.parity, value: ok ? 1 : 0))
        case .setWordSize(let bits):
            let ok = change("data=\(bits)", by: client)
            client.send(Frame(.wordSize, value: ok ? 1 : 0))
        case .setSettings(let text):
            let ok = change(text, by: client)
            client.send(.withText(.result, ok ? "ok" : "error: settings not changed"))
        case .sendBreak:
            sendBreak(by: client)
        case .metadata(let metadata):
            recordMetadata(metadata, from: client)
        case .windowSize(let rows, let cols):
            resize(rows: rows, cols: cols, by: client)
        case .takeWriteLock:
            takeWriteLock(client)
        case .releaseWriteLock:
            if roster.releaseLock(client) {
                broadcast(notice: "write lock released by \(client.who)")
            }
            client.send(.withText(.result, "ok"))
        case .replay:
            client.send(.withText(.result, "replay+"))
            send(data: replay.contents(), to: client)
            client.send(.withText(.result, "replay-"))
        case .ignored(let why):
            client.refuse(why)
        }
    }

    private func greet(_ client: ClientSession, _ hello: HelloRequest) {
        guard hello.isSupported else {
            client.notice("unsupported protocol \(hello.protocolName); this daemon speaks \(RTTYVersion.protocolName)")
            return
        }
        clientOutput(client.wireForm).flush()  // output of its old form first
        client.speaksExtended()
        outputMembersChanged()
        // May lower what the ACL gave, never raise; a read-only session holds no write lock.
        if hello.readOnly { roster.lowerToReadOnly(client) }
        // Only a first frame makes a probe: a session already on record stays one.
        if hello.probe { client.markProbe() }
        recordStart(client, replay: false)  // after the answer below
        let compact = settings.summary.replacingSpaces(with: ",")
        client.send(.withText(.hello, "\(RTTYVersion.protocolName) console=\(config.name) session=\(client.id) rights=\(client.rights.rawValue) policy=\(config.writePolicy.rawValue) state=\(state.word) clients=\(clients.count { $0.isOnRecord }) settings=\(compact)"))
        if hello.probe {
            client.close(notice: nil)
            return
        }
        if hello.noReplay { declineReplay(client) } else { sendReplayIfDue(client) }
    }

    func mayWrite(_ client: ClientSession, _ what: String) -> Bool {
        if client.rights == .readOnly {
            if !client.toldReadOnly || what != "input" {
                client.refuse("read-only session: \(what) refused")
                client.toldReadOnly = true
            }
            return false
        }
        return true
    }

    func input(_ bytes: [UInt8], from client: ClientSession) {
        guard !bytes.isEmpty, mayWrite(client, "input") else { return }
        if let holder = roster.lockBlocking(client, policy: config.writePolicy) {
            client.refuse("\(holder.who) has the write lock on \(config.name); ~w takes it over")
            return
        }
        client.lastInput = WallClock.monotonicSeconds()
        client.bytesIn += bytes.count
        client.recording?.input(bytes, offset: recorder?.offset ?? 0)
        guard source != nil else {
            client.refuse("device is down (\(stateReason)); input dropped")
            return
        }
        if !supervisor.write(bytes) { dropInput(bytes.count, from: client) }
    }

    /// Applies "key=value ..." to the line, announces it to everyone and logs a marker.
    func change(_ text: String, by client: ClientSession?) -> Bool {
        if let client, !mayWrite(client, "line settings change") { return false }
        if let error = changeError(text, client: client) {
            client?.refuse(error)
            return false
        }
        return true
    }

    /// nil when applied; else why not, in words for the requester. A session's changes
    /// are each applied (the reply to an RFC 2217 or rtty/1 client must tell the truth),
    /// but told to the others coalesced (`FloodReport`).
    func changeError(_ text: String, client: ClientSession? = nil, admin: String = "rttyctl") -> String? {
        let error = line.apply(text, console: config, fd: source?.control)
        guard let client else {
            if error == nil { announceSettings(by: admin, client: nil) }
            return error
        }
        if reportsNow(.settings, from: client, dropped: error != nil) {
            if let error { logger.warning("\(client.who): \(text): \(error)") } else { announceSettings(by: client.who, client: client) }
        }
        return error
    }

    /// The settings now in force, to everyone, the console log and the audit log; `more`
    /// counts the changes of a run told in one go.
    func announceSettings(by who: String, client: ClientSession?, more: FloodReport.Tally = .init()) {
        var by = "by \(who)"
        var details: [(String, AuditEvent.Detail)] = [("settings", .text(settings.summary))]
        if !more.isEmpty {
            by += "; \(FloodReport.count(more.done)) more change\(more.done == 1 ? "" : "s")"
            if more.dropped > 0 { by += ", \(FloodReport.count(more.dropped)) refused" }
            details += [("changes", .number(more.done)), ("refused", .number(more.dropped))]
        }
        log?.mark("line settings now \(settings.short) (\(by))")
        record(.settings, client, details)
        broadcast(notice: "line settings now \(settings.short) (\(by))")
        broadcastExtended(.withText(.settings, settings.summary))
        logger.notice("line settings now \(settings.summary) (\(by))")
    }

    /// A timed BREAK. The line carries one at a time: one asked for while another is in
    /// progress is dropped (it could only have lengthened it), so however many a client
    /// sends, at most one reaches the line per `LineControl.breakDuration`. Returns why nothing was sent.
    @discardableResult
    func sendBreak(by client: ClientSession?, admin: String = "rttyctl") -> String? {
        if let client, !mayWrite(client, "BREAK") { return "read-only session" }
        guard let fd = source?.control else {
            let why = "cannot send BREAK: \(source == nil ? "device is down" : "a \(config.source.kind) console has no serial line")"
            client?.refuse(why)
            return why
        }
        switch line.startBreak(fd, on: loop) {
        case .started:
            break
        case .busy:
            let why = "a BREAK is in progress on \(config.name); this one was dropped"
            if let client, reportsNow(.breaks, from: client, dropped: true) { client.refuse(why) }
            return why
        case .failed(let error):
            client?.refuse("cannot send BREAK: \(error)")
            return "cannot send BREAK: \(error)"
        }
        guard let client else {
            announceBreak(by: admin, client: nil)
            return nil
        }
        if reportsNow(.breaks, from: client, dropped: false) { announceBreak(by: client.who, client: client) }
        return nil
    }

    private func announceBreak(by who: String, client: ClientSession?) {
        log?.mark("BREAK (by \(who))")
        record(.breakSent, client)
        client?.notice("BREAK")
        broadcast(notice: "BREAK sent by \(who)", except: client)
        logger.notice("BREAK sent by \(who)")
    }

    /// The rest of a run of BREAKs, in one notice, marker and record.
    func announceBreaks(by client: ClientSession, more: FloodReport.Tally) {
        let dropped = "\(FloodReport.count(more.dropped)) more dropped while one was on the line"
        let text = more.done == 0
            ? "BREAK by \(client.who): \(dropped)"
            : "BREAK sent by \(client.who) \(FloodReport.count(more.done)) more time\(more.done == 1 ? "" : "s")\(more.dropped > 0 ? " (and \(dropped))" : "")"
        log?.mark(text)
        record(.breakSent, client, ("sent", .number(more.done)), ("dropped", .number(more.dropped)))
        broadcast(notice: text)
        logger.notice("\(text)")
    }

    private func resize(rows: Int, cols: Int, by client: ClientSession) {
        guard client.rights == .readWrite, case .exec = config.source, let fd = source?.control else { return }
        if let error = line.resize(fd, rows: rows, cols: cols) { client.refuse(error) }
    }

    private func takeWriteLock(_ client: ClientSession) {
        guard mayWrite(client, "write lock") else {
            client.send(.withText(.result, "error: read-only session"))
            return
        }
        let previous = roster.takeLock(client)
        client.send(.withText(.result, "ok"))
        if previous !== client {
            previous?.notice("\(client.who) took over the write lock")
            broadcast(notice: "\(client.who) has the write lock", except: previous)
        }
    }
}

extension String {
    func replacingSpaces(with separator: Character) -> String {
        String(map { $0 == " " ? separator : $0 })
    }
}
