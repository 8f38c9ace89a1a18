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

    /// The recent output, once the client's side of the connection is set up.
    func startTCPSession(_ session: ClientSession) {
        sendReplayIfDue(session)
    }

    // MARK: RFC 2217

    /// Carries out one COM-PORT-OPTION request (LineControl.swift); changes go through the
    /// same path as the socket protocol, so every client is told and the change is logged
    /// and audited.
    func comPort(_ request: ComPort.Request, from client: ClientSession) -> [UInt8] {
        let requester = LineControl.Requester(
            mayWrite: { self.mayWrite(client, $0) },
            // A refusal is logged there, coalesced.
            change: { if self.mayWrite(client, "setting changes") { _ = self.changeError($0, client: client) } },
            sendBreak: { self.sendBreak(by: client) == nil })
        return line.comPort(request, fd: source?.control, console: config.name, by: requester)
    }
}
