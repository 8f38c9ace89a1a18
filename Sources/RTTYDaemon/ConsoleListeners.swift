import Logging
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem
import SystemPackage

/// A console's front doors: its Unix socket and, with `tcp = ...`, its TCP port. Whoever
/// comes through goes to the one admission path (ConsoleHub+Admission.swift); running out
/// of descriptors is said here (`AcceptGuard`). State private, on the console's loop;
/// Sendable only so that NIO's channel initializers can reach it.
final class ConsoleListeners: @unchecked Sendable {
    /// The hub owns its listeners and outlives them.
    private unowned let hub: ConsoleHub
    private var unix: Channel?
    private var tcp: Channel?
    private var lastDescriptorWarning = -Double.infinity

    init(hub: ConsoleHub) {
        self.hub = hub
    }

    private var loop: EventLoop { hub.loop }
    private var config: Config.Console { hub.config }
    private var logger: Logger { hub.logger }

    /// The socket, made with the console's group and mode 0660.
    func startUnix() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        let gid: UInt32?
        switch SocketGroup.resolve(config.group) {
        case .success(let resolved): gid = resolved
        case .failure(let message):
            return loop.makeFailedFuture(DaemonError("console \(config.name): \(message)"))
        }
        let fd: SystemPackage.FileDescriptor
        do {
            fd = try UnixSocket.listen(path: hub.socketPath, group: gid, mode: 0o660)
        } catch {
            return loop.makeFailedFuture(DaemonError("console \(config.name): cannot listen on \(hub.socketPath): \(error)"))
        }
        let high = config.clientQueueBytes
        let listenFD = fd.rawValue
        let hub = self.hub
        return ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGuard(listeners: self, listenFD: listenFD))
                }
            }
            .childChannelOption(.writeBufferWaterMark, value: .init(low: high / 2, high: high))
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(hub: hub))
                }
            }
            .withBoundSocket(fd.rawValue)
            .map { channel in
                self.unix = channel
            }
    }

    /// Closes the socket's listener (attached clients keep their connections).
    func stopUnix() -> EventLoopFuture<Void> {
        let closing = unix?.close() ?? loop.makeSucceededVoidFuture()
        unix = nil
        return closing.recover { _ in }
    }

    /// Direct TCP access (rtty.conf(5) `tcp`), if configured.
    func startTCP() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        guard let tcp = config.tcp else { return loop.makeSucceededVoidFuture() }
        if !tcp.isLoopback {
            logger.warning("TCP access to \(config.name) on \(tcp.address) is reachable from other hosts and has NO authentication\(tcp.allow.isEmpty ? " and no tcp_allow list" : "; tcp_allow: \(tcp.allow.map(\.description).joined(separator: ", "))")")
        }
        let high = config.clientQueueBytes
        let (hub, name) = (self.hub, config.name)
        return ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // No raw descriptor here to refuse with: pause and report.
                    try channel.pipeline.syncOperations.addHandler(AcceptGuard(listeners: self, listenFD: nil))
                }
            }
            .childChannelOption(.writeBufferWaterMark, value: .init(low: high / 2, high: high))
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TCPClientHandler(hub: hub, mode: tcp.mode))
                }
            }
            .bind(host: tcp.host, port: tcp.port)
            .map { channel in
                self.tcp = channel
                self.logger.notice("TCP \(tcp.mode.rawValue) access on \(tcp.address)")
            }
            .flatMapErrorThrowing { error in
                throw DaemonError("console \(name): cannot listen on TCP \(tcp.address): \(error)")
            }
    }

    func stopTCP() -> EventLoopFuture<Void> {
        let closing = tcp?.close() ?? loop.makeSucceededVoidFuture()
        tcp = nil
        return closing.recover { _ in }
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
            hub.record(.denied, nil, ("reason", .text("out of file descriptors: \(refused) client(s) refused")))
        }
    }
}
