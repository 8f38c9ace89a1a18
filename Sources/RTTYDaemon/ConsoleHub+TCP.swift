import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem
import SystemPackage

/// Direct TCP access to a console (`tcp = "HOST:PORT"`, rtty.conf(5)): raw bytes or telnet
/// with RFC 2217. A TCP session is an ordinary session (broadcast, replay, write policy,
/// audit with the peer address instead of a uid), read-only if `tcp_rights = "ro"`.
extension ConsoleHub {
    func startTCPListener() -> EventLoopFuture<Void> {
        guard let tcp = config.tcp else { return loop.makeSucceededVoidFuture() }
        if !tcp.isLoopback {
            logger.warning("TCP access to \(config.name) on \(tcp.address) is reachable from other hosts and has NO authentication\(tcp.allow.isEmpty ? " and no tcp_allow list" : "; tcp_allow: \(tcp.allow.map(\.description).joined(separator: ", "))")")
        }
        let high = config.clientQueueBytes
        return ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No raw descriptor here to refuse with: pause and report.
                    try channel.pipeline.syncOperations.addHandler(AcceptGuard(hub: self, listenFD: nil))
                }
            }
            .childChannelOption(.writeBufferWaterMark, value: .init(low: high / 2, high: high))
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TCPClientHandler(hub: self, mode: tcp.mode))
                }
            }
            .bind(host: tcp.host, port: tcp.port)
            .map { channel in
                self.tcpListener = channel
                self.logger.notice("TCP \(tcp.mode.rawValue) access on \(tcp.address)")
            }
            .flatMapErrorThrowing { error in
                throw DaemonError("console \(self.config.name): cannot listen on TCP \(tcp.address): \(error)")
            }
    }

    func stopTCPListener() -> EventLoopFuture<Void> {
        let closing = tcpListener?.close() ?? loop.makeSucceededVoidFuture()
        tcpListener = nil
        return closing.recover { _ in }
    }

    /// A TCP client connected: checked against tcp_allow and the client cap, then admitted.
    func attachTCP(channel: Channel, mode: Config.TCPAccess.Mode) -> ClientSession {
        let now = WallClock.monotonicSeconds()
        let session = ClientSession(id: nextSessionID(), channel: channel, uid: UInt32.max, pid: -1, userName: "tcp", now: now)
        let address = channel.remoteAddress?.ipAddress ?? "?"
        session.tcpMode = mode
        session.peerAddress = "\(address) \(channel.remoteAddress?.port ?? 0)"
        channel.closeFuture.whenComplete { _ in self.detach(session) }
        let decision = tcpDecision(address)
        guard decision.rights != .none else {
            logger.warning("refused TCP client \(address): \(decision.why)")
            record(.denied, session, ("reason", .text(decision.why)))
            session.close(notice: nil)
            return session
        }
        // No uid on TCP: the peer address stands for the user in the per-user limit.
        let sameAddress = clients.count { $0.peerHost == address }
        guard admissionAllows(session, privileged: false, ownSessions: sameAddress) else { return session }
        session.rights = decision.rights == .ro ? .readOnly : .readWrite
        session.identity = session.who
        enroll(session)
        logger.info("client \(session.id) attached: \(session.who) (\(mode.rawValue), \(session.rights.rawValue))")
        recordStart(session)
        broadcast(notice: "\(session.who) connected", except: session)
        if config.writePolicy == .exclusive, writeLockHolder == nil, session.rights == .readWrite {
            writeLockHolder = session
        }
        return session
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

    /// The recent output, once the client's side of the connection is set up.
    func startTCPSession(_ session: ClientSession) {
        sendReplayIfDue(session)
    }

    // MARK: RFC 2217

    /// Carries out one COM-PORT-OPTION request; returns the server's reply (RFC 2217: the
    /// value now in effect). Changes go through the same path as the socket protocol, so
    /// every client is told and the change is logged and audited.
    func comPort(_ request: ComPort.Request, from client: ClientSession) -> [UInt8] {
        func apply(_ change: String) {
            guard mayWrite(client, "setting changes") else { return }
            _ = changeError(change, client: client)  // a refusal is logged there, coalesced
        }
        let fd = source?.control
        switch request {
        case .signature:
            return ComPort.reply(ComPort.Code.signature, Array("\(RTTYVersion.string) console \(config.name)".utf8))
        case .setBaud(let baud):
            if baud != 0 { apply("baud=\(baud)") }
            return ComPort.reply(ComPort.Code.setBaud, ComPort.baudBytes(settings.baud))
        case .setDataSize(let size):
            if size != 0 { apply("data=\(size)") }
            return ComPort.reply(ComPort.Code.setDataSize, [UInt8(settings.dataBits)])
        case .setParity(let value):
            if value != 0, let parity = ComPort.parity(value) { apply("parity=\(parity.rawValue)") }
            return ComPort.reply(ComPort.Code.setParity, [ComPort.parityValue(settings.parity)])
        case .setStopSize(let value):
            if value == 1 || value == 2 { apply("stop=\(value)") }
            return ComPort.reply(ComPort.Code.setStopSize, [UInt8(settings.stopBits)])
        case .setControl(let value):
            return ComPort.reply(ComPort.Code.setControl, [control(value, from: client, fd: fd)])
        case .notifyLineState:
            // Transmit holding and shift registers empty: nothing is held back.
            return ComPort.reply(ComPort.Code.notifyLineState, [0x60])
        case .notifyModemState:
            return ComPort.reply(ComPort.Code.notifyModemState, [modemState(fd)])
        case .flowSuspend, .flowResume:
            return []
        case .setLineStateMask(let mask):
            return ComPort.reply(ComPort.Code.setLineStateMask, [mask])
        case .setModemStateMask(let mask):
            return ComPort.reply(ComPort.Code.setModemStateMask, [mask])
        case .purge(let which):
            if let fd, mayWrite(client, "purge"), (1...3).contains(which) {
                ModemLines.purge(fd, input: which != 2, output: which != 1)
            }
            return ComPort.reply(ComPort.Code.purge, [which])
        }
    }

    /// SET-CONTROL: flow control, BREAK, DTR and RTS, each answered with the state it left
    /// (RFC 2217), so a refused change (a read-only session, a device that is down) is
    /// answered with what the line kept. Lines a device does not have (a pty) are answered
    /// as asked when the change was allowed: there is nothing to contradict.
    private func control(_ value: UInt8, from client: ClientSession, fd: SystemPackage.FileDescriptor?) -> UInt8 {
        typealias C = ComPort.Control
        let lines = fd.flatMap(ModemLines.get)
        switch value {
        case C.queryFlow:
            return settings.flow == .none ? C.noFlow : settings.flow == .xonxoff ? C.xonXoff : C.hardware
        case C.noFlow, C.xonXoff, C.hardware:
            let flow = value == C.noFlow ? "none" : value == C.xonXoff ? "xonxoff" : "rtscts"
            if mayWrite(client, "setting changes") { _ = changeError("flow=\(flow)", client: client) }
            return control(C.queryFlow, from: client, fd: fd)
        case C.queryBreak, C.breakOff:
            return C.breakOff
        case C.breakOn:
            // A timed BREAK, so BREAK-OFF is true again by itself. BREAK-ON only when this
            // request put one on the line: a refused or dropped one (one at a time) did not.
            return sendBreak(by: client) == nil ? C.breakOn : C.breakOff
        case C.queryDTR:
            return lines.map { $0.dtr ? C.dtrOn : C.dtrOff } ?? C.dtrOn
        case C.queryRTS:
            return lines.map { $0.rts ? C.rtsOn : C.rtsOff } ?? C.rtsOn
        case C.dtrOn, C.dtrOff, C.rtsOn, C.rtsOff:
            let dtr = value == C.dtrOn || value == C.dtrOff
            let query = dtr ? C.queryDTR : C.queryRTS
            guard let fd, mayWrite(client, dtr ? "DTR" : "RTS") else { return control(query, from: client, fd: fd) }
            let raise = value == C.dtrOn || value == C.rtsOn
            ModemLines.set(fd, dtr: dtr ? raise : nil, rts: dtr ? nil : raise)
            return ModemLines.get(fd) == nil ? value : control(query, from: client, fd: fd)
        case 13:
            return 14  // inbound flow control: none separate from the outbound setting
        default:
            return value
        }
    }

    /// NOTIFY-MODEMSTATE bits: CD 0x80, RI 0x40, DSR 0x20, CTS 0x10. A device without modem
    /// lines reports carrier, DSR and CTS while it is up.
    private func modemState(_ fd: SystemPackage.FileDescriptor?) -> UInt8 {
        guard let fd else { return 0 }
        guard let lines = ModemLines.get(fd) else { return 0xB0 }
        return (lines.carrier ? 0x80 : 0) | (lines.ring ? 0x40 : 0) | (lines.dsr ? 0x20 : 0) | (lines.cts ? 0x10 : 0)
    }
}
