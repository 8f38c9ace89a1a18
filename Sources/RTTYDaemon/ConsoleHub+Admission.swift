import NIOCore
import RTTYCore
import RTTYSystem

/// Who gets in, for Unix-socket and TCP clients alike: one path from a connected channel
/// to an admitted session (access, the client limits, the write lock, what is logged and
/// audited). The two kinds differ only in who the peer is (`Peer`) and in what they are
/// told: TCP clients get console bytes only, so their refusals are a closed connection.
extension ConsoleHub {
    /// A Unix-socket client connected: admitted once the kernel told who it is.
    func attach(channel: Channel) -> ClientSession {
        loop.preconditionInEventLoop()
        let session = ClientSession(id: nextSessionID(), channel: channel, userName: "?", now: WallClock.monotonicSeconds())
        watchClose(of: session)
        credentials(channel).whenComplete { result in
            switch result {
            case .success(let cred):
                self.admit(session, as: .local(uid: cred.uid, pid: cred.pid))
            case .failure(let error):
                // Fail closed: without verified credentials nobody gets in.
                self.refuse(session, "cannot read its credentials: \(error)", notice: .unverified, log: "refused")
            }
        }
        return session
    }

    /// A TCP client connected: its address is all there is to check.
    func attachTCP(channel: Channel, mode: Config.TCPAccess.Mode) -> ClientSession {
        loop.preconditionInEventLoop()
        let address = channel.remoteAddress?.ipAddress ?? "?"
        let session = ClientSession(
            id: nextSessionID(), channel: channel, userName: "tcp", tcp: mode,
            peerAddress: "\(address) \(channel.remoteAddress?.port ?? 0)", now: WallClock.monotonicSeconds())
        watchClose(of: session)
        admit(session, as: .tcp(address: address))
        return session
    }

    /// Detach when the channel closes, however that happens: a client that is gone before
    /// its admission finishes must not stay on the roster, holding a slot of max_clients.
    private func watchClose(of session: ClientSession) {
        session.channel.closeFuture.whenComplete { _ in self.detach(session) }
    }

    /// The one admission: access (the ACL for a uid, tcp_allow/tcp_rights for an address),
    /// then the client limits, then the session joins and is greeted in its wire form.
    func admit(_ session: ClientSession, as peer: Peer) {
        loop.preconditionInEventLoop()
        guard !session.closing, session.channel.isActive else { return }
        let decision: AccessControl.Decision
        let privileged: Bool
        switch peer {
        case .local(let uid, let pid):
            decision = access.decide(uid: uid, console: config.name)
            session.verified(uid: uid, pid: pid, userName: decision.user)
            privileged = decision.isAdmin(uid, group: config.adminGroup)
        case .tcp(let address):
            decision = tcpDecision(address)
            privileged = false  // no uid: never root or the admin group
        }
        guard decision.rights != .none else {
            refuse(session, decision.why, notice: .denied(user: decision.user, console: config.name), log: "denied")
            return
        }
        session.rights = decision.rights == .ro ? .readOnly : .readWrite
        let limits = Admission.Limits(maxClients: config.maxClients, maxClientsPerUser: config.maxClientsPerUser)
        if case .refuse(let why) = roster.verdict(for: peer, privileged: privileged, limits: limits) {
            let full = "refused on a console with \(clients.count) clients"
            refuse(session, why, notice: .full(console: config.name, why: why), log: full)
            return
        }
        roster.enroll(session)
        logger.info("client \(session.id) attached: \(session.peerDescription), \(session.rights.rawValue)")
        switch peer {
        case .local:
            session.notice("authorized")
            // Identity and replay wait for its first frame (it may be a probe), at most this long.
            session.replayTimer = loop.scheduleTask(in: ConsoleHub.replayGrace) {
                self.sendReplayIfDue(session)
            }
        case .tcp:
            // Nothing more will come to say who it is: it is a session from now on (its
            // replay follows the telnet opening, `startTCPSession`).
            recordStart(session)
            session.identity = session.who
            announce(session)
        }
    }

    /// A refusal, in the same words for both kinds: logged, audited, told (if its wire
    /// form carries notices), closed.
    private func refuse(_ session: ClientSession, _ why: String, notice: ClosingNotice, log verb: String) {
        logger.warning("\(verb) \(session.peerDescription): \(why)")
        record(.denied, session, ("reason", .text(why)))
        session.close(notice: notice.text)
    }

    /// The session said who it is, for the first time (IDENTIFY; a TCP client on
    /// admission): it may take a free write lock, and everyone is told it connected.
    func announce(_ session: ClientSession) {
        guard !session.isProbe else { return }
        roster.claimLockIfFree(session, policy: config.writePolicy)
        broadcast(notice: "\(session.who) connected")
    }

    /// What `tcp_allow` and `tcp_rights` give a TCP client at `address`: the one decision
    /// for TCP, made when it connects and again after every reload, grant or revoke (the
    /// user ACL has nothing to say about a peer that has no uid).
    func tcpDecision(_ address: String) -> AccessControl.Decision {
        guard let tcp = config.tcp else {
            return AccessControl.Decision(rights: .none, user: "tcp", why: "console \(config.name) has no TCP access any more")
        }
        if !tcp.allow.isEmpty {
            let bytes = IPNetwork.address(address) ?? []
            guard tcp.allow.contains(where: { $0.contains(bytes) }) else {
                return AccessControl.Decision(rights: .none, user: "tcp", why: "\(address) is not in tcp_allow")
            }
        }
        return AccessControl.Decision(rights: tcp.readOnly ? .ro : .rw, user: "tcp", why: "tcp_rights \(tcp.readOnly ? "ro" : "rw")")
    }

    /// After an ACL reload: end the sessions that lost their rights, downgrade the others.
    /// A TCP session answers to tcp_allow/tcp_rights, a socket session to the ACL.
    func recheckAccess() {
        loop.preconditionInEventLoop()
        for client in clients where !client.closing {
            let decision = client.peerHost.map(tcpDecision) ?? access.decide(uid: client.uid, console: config.name)
            switch decision.rights {
            case .none:
                client.endReason = "access revoked"
                logger.notice("ending \(client.id) of \(client.userName): access revoked (\(decision.why))")
                client.close(notice: ClosingNotice.revoked(console: config.name).text)
            case .ro where client.rights == .readWrite:
                logger.notice("\(client.id) of \(client.who) is now read-only (\(decision.why))")
                roster.lowerToReadOnly(client)
                client.notice("your access to console \(config.name) is now read-only")
            default:
                break
            }
        }
    }

    func nextSessionID() -> String { roster.nextSessionID(console: config.name) }
}

extension ClientSession {
    /// Who a log line says it is: the verified uid and pid of a socket client, the address
    /// of a TCP one (which has neither).
    var peerDescription: String {
        guard peerAddress == nil else { return who }
        return isVerified ? "\(who) (uid \(uid), pid \(pid))" : "a client of unknown credentials"
    }
}
