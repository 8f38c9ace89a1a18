import NIOCore
import RTTYCore
import RTTYSystem

/// rttyctl requests (docs/PROTOCOL.md, "Control socket").
extension Daemon {
    /// Only root, the daemon's own user and members of the admin group get an answer.
    func isAdmin(uid: UInt32) -> Bool { AccessControl.isAdmin(uid: uid, adminGroup: config.adminGroup) }

    /// Whether this peer may use the control socket at all, decided before a byte of its
    /// request is read (RequestServer); nil = it may.
    func controlRefusal(uid: UInt32) -> String? {
        guard !isAdmin(uid: uid) else { return nil }
        let adminGroup = config.adminGroup
        logger.warning("control: refused uid \(uid): not root or in group \(adminGroup)")
        return "permission denied: rttyctl needs root or membership of group \(adminGroup)"
    }

    /// One control-socket request line from rttyctl (a JSON `ControlRequest`, or the old
    /// words), from a peer `controlRefusal` let in. What reads a file of any size is
    /// streamed; a reload is answered with its outcome.
    func controlRequest(_ line: String, uid: UInt32) async -> RequestAnswer {
        logger.info("control: uid \(uid): \(JSON.quote(line))")
        let request: ControlRequest
        do {
            request = try RequestDecoding.decode(line, as: ControlRequest.self) { line throws(ControlWords.Failure) in
                try ControlRequest(words: ControlWords.split(line))
            }
        } catch {
            return .line(ControlReply.error(error.description))
        }
        return await answer(request, by: Accounts.userName(uid) ?? "uid\(uid)")
    }

    private func answer(_ request: ControlRequest, by admin: String) async -> RequestAnswer {
        switch request {
        case .status(let names), .who(let names):
            let selected = sortedHubs().filter { names.isEmpty || names.contains($0.name) }
            if let missing = names.first(where: { name in !selected.contains { $0.name == name } }) {
                return .line(ControlReply.error("no console \(missing); rttyctl status lists them"))
            }
            var consoles: [ControlAnswer.Console] = []
            for hub in selected {
                // A console stopped meanwhile has nothing to say.
                if let status = try? await hub.loop.submit({ hub.status() }).get() { consoles.append(status) }
            }
            return .line(ControlReply.success(ControlAnswer.Consoles(consoles: consoles, auditSyslogDropped: syslog.dropped)))
        case .kick(let target):
            var kicked = 0
            for hub in sortedHubs() {
                kicked += (try? await hub.loop.submit { hub.kick(target, by: admin) }.get()) ?? 0
            }
            return .line(kicked > 0 ? ControlReply.success(ControlAnswer.Kicked(kicked: kicked)) : ControlReply.error("no session or user \(target) is attached; rttyctl who lists them"))
        case .lineBreak(let console):
            guard let hub = hub(console) else { return .line(ControlReply.error(request.command.usage)) }
            let error = try? await hub.loop.submit { hub.adminBreak(by: admin) }.get()
            return .line(error.flatMap { $0 }.map(ControlReply.error) ?? ControlReply.ok())
        case .set(let console, let settings):
            guard let hub = hub(console) else { return .line(ControlReply.error(request.command.usage)) }
            let text = settings.joined(separator: " ")
            let outcome = try? await hub.loop.submit { (hub.adminChange(text, by: admin), hub.settings.summary) }.get()
            guard let outcome else { return .line(ControlReply.error("console \(console) stopped")) }
            if let error = outcome.0 { return .line(ControlReply.error(error)) }
            // What the device holds now, which may differ from the request (a pty keeps 8N1).
            return .line(ControlReply.success(ControlAnswer.Settings(settings: outcome.1)))
        case .grant(let rights, let subject, let consoles):
            return .line(await changeAccess(grant: rights, subject: subject, consoles: consoles, by: admin))
        case .revoke(let subject, let consoles):
            return .line(await changeAccess(grant: nil, subject: subject, consoles: consoles, by: admin))
        case .acl:
            return .line(ControlReply.encode(access.listing()))
        case .aclCheck(let user, let console):
            return .line(aclCheck(user: user, console: console))
        case .sessions(let console, let user):
            return sessionRecords(console: console, user: user)
        case .transcript(let session):
            return transcript(session)
        case .log(let console, let lines, let follow):
            return consoleLog(console, lines: lines, follow: follow)
        case .reload:
            let outcome = await requestReload()
            if let refused = outcome.refused { return .line(ControlReply.error(refused)) }
            return .line(ControlReply.success(ControlAnswer.Reloaded(summary: outcome.summary, problems: outcome.problems)))
        }
    }

    /// grant (rights given) or revoke (nil): edit the ACL file atomically, audit, reload the
    /// ACL and apply it to live sessions at once (a revoked user's sessions end).
    private func changeAccess(grant rights: AccessList.Rights?, subject: String, consoles: [String]?, by admin: String) async -> String {
        // One snapshot for the whole edit: a reload meanwhile may move the ACL or the audit log.
        let running = current
        let path = running.config.paths.access
        var groups: [String] = []
        if subject.hasPrefix("%") {
            guard Accounts.groupID(named: String(subject.dropFirst())) != nil else {
                return ControlReply.error("no group \(subject.dropFirst()) on this system; create it first (groupadd)")
            }
        } else {
            guard Accounts.userID(named: subject) != nil else {
                return ControlReply.error("no user \(subject) on this system; create it first (useradd), then grant")
            }
            groups = Accounts.groupNames(ofUser: subject)
        }
        let known = running.hubs.keys.sorted()
        let isGlob = { (name: String) in name.contains(where: { "*?[".contains($0) }) }
        if let unknown = consoles?.first(where: { !isGlob($0) && !known.contains($0) }) {
            return ControlReply.error("no console \(unknown) in the configuration; rttyctl status lists them (globs such as lab* are fine)")
        }
        let word = rights == nil ? "revoke" : "grant"
        let note = "rttyctl \(word) by \(admin) \(WallClock.now().iso8601.prefix(10))"
        let changed: Bool
        do {
            let grantee = try AccessEdit.Grantee(subject, groups: groups)
            let (old, new) = try AtomicFile.update(path) { text in
                if let rights, let consoles {
                    return try AccessEdit.grant(text, grantee: grantee, consoles: consoles, rights: rights, note: note)
                }
                return try AccessEdit.revoke(text, grantee: grantee, consoles: consoles, known: known, note: note)
            }
            changed = old != new
        } catch {
            return ControlReply.error("cannot \(word): \(error)")
        }
        var event = AuditEvent(time: WallClock.now(), kind: rights == nil ? .revoke : .grant, user: admin)
        event.details = [("subject", .text(subject)), ("consoles", .text(consoles?.joined(separator: ",") ?? "*"))]
        if let rights { event.details.append(("rights", .text(rights.rawValue))) }
        running.audit.record(event)
        logger.notice("\(word) \(subject) \(consoles?.joined(separator: ",") ?? "*") by \(admin): \(path) \(changed ? "changed" : "unchanged")")
        running.access.load()
        for hub in running.hubs.values {
            try? await hub.loop.submit { hub.recheckAccess() }.get()
        }
        return ControlReply.success(ControlAnswer.AccessChange(acl: path, changed: changed))
    }

    /// The daemon's own decision for a user (looked up here, as the kernel's uid would be).
    private func aclCheck(user: String, console: String) -> String {
        guard let uid = Accounts.userID(named: user) else { return ControlReply.error("no user \(user) on this system") }
        guard hub(console) != nil else { return ControlReply.error("no console \(console); rttyctl status lists them") }
        let decision = access.decide(uid: uid, console: console)
        return ControlReply.encode(ControlACL.Check(user: decision.user, uid: uid, console: console, rights: decision.rights, why: decision.why))
    }

    private func hub(_ name: String) -> ConsoleHub? { hubTableSnapshot()[name] }

    private func sortedHubs() -> [ConsoleHub] { hubTableSnapshot().values.sorted { $0.name < $1.name } }
}

extension ConsoleHub {
    func status() -> ControlAnswer.Console {
        loop.preconditionInEventLoop()
        let now = WallClock.monotonicSeconds()
        let sessions = clients.filter { $0.admitted }.map { client in
            ControlAnswer.Client(
                session: client.id, user: client.userName, who: client.who, uid: client.uid, rights: client.rights.rawValue,
                idle: Int(now - client.lastInput), connected: Int(now - client.connectedAt), bytesIn: client.bytesIn, bytesOut: client.bytesOut,
                from: client.peerAddress, claimedFrom: client.peerAddress == nil ? client.metadata?.claimedFrom : nil)
        }
        var reason: String?
        if case .down(let why) = state { reason = why }
        return ControlAnswer.Console(
            name: config.name, state: state.word, kind: config.source.kind, source: config.source.describe, settings: settings.summary,
            policy: config.writePolicy.rawValue, reason: reason, clients: sessions)
    }

    /// Ends the sessions with this id, or of this user; returns how many.
    func kick(_ target: String, by admin: String) -> Int {
        loop.preconditionInEventLoop()
        var count = 0
        for client in clients where client.admitted && !client.closing && (client.id == target || client.userName == target) {
            client.endReason = "kicked by \(admin)"
            record(.kick, client, ("by", .text(admin)))
            client.close(notice: ClosingNotice.kicked(by: admin).text)
            count += 1
        }
        return count
    }

    /// nil on success, else why not.
    func adminBreak(by admin: String) -> String? {
        loop.preconditionInEventLoop()
        guard source?.control != nil else { return "cannot send BREAK on \(config.name): \(source == nil ? "device is down (\(stateReason))" : "a \(config.source.kind) console has no serial line")" }
        return sendBreak(by: nil, admin: admin)
    }

    func adminChange(_ text: String, by admin: String) -> String? {
        loop.preconditionInEventLoop()
        return changeError(text, admin: admin)
    }
}
