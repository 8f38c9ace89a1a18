import Logging
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem

/// The control socket for rttyctl: one request line in, one JSON answer out, then close.
/// Only root, the daemon's own user and members of the admin group get an answer; the
/// check uses the socket's peer credentials.
final class ControlServer: @unchecked Sendable {
    static let maxRequest = 4096

    private let daemon: Daemon
    private let adminGroup: String
    private let logger: Logger
    private var channel: Channel?

    init(daemon: Daemon, adminGroup: String, logger: Logger) {
        self.daemon = daemon
        self.adminGroup = adminGroup
        self.logger = logger
    }

    func start(path: String, on loop: EventLoop) async throws {
        let gid = Accounts.groupID(named: adminGroup)
        let fd = try UnixSocket.listen(path: path, group: gid, mode: 0o660)
        channel = try await ServerBootstrap(group: loop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ControlHandler(server: self))
                }
            }
            .withBoundSocket(fd.rawValue).get()
    }

    func stop(path: String) async {
        try? await channel?.close().get()
        UnixSocket.remove(path: path)
    }

    func authorized(uid: UInt32) -> Bool {
        if uid == 0 || uid == ProcessIdentity.effectiveUID { return true }
        guard let name = Accounts.userName(uid), let admin = Accounts.groupID(named: adminGroup) else { return false }
        return Accounts.groups(ofUser: name, primary: Accounts.primaryGroup(ofUser: name) ?? UInt32.max).contains(admin)
    }

    func execute(_ words: [String], uid: UInt32) async -> String {
        guard authorized(uid: uid) else {
            logger.warning("control: refused uid \(uid): not root or in group \(adminGroup)")
            return ControlReply.error("permission denied: rttyctl needs root or membership of group \(adminGroup)")
        }
        logger.info("control: uid \(uid): \(words.joined(separator: " "))")
        return await daemon.control(words, by: Accounts.userName(uid) ?? "uid\(uid)")
    }
}

/// Reads one line, answers, closes.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let server: ControlServer
    private var request: [UInt8] = []
    private var answered = false

    init(server: ControlServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        request += unwrapInboundIn(data).readableBytesView
        guard let newline = request.firstIndex(of: 10) else {
            if request.count > ControlServer.maxRequest { reply(context, ControlReply.error("request longer than \(ControlServer.maxRequest) bytes")) }
            return
        }
        answered = true
        let words = String(decoding: request[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        let channel = context.channel
        let server = self.server
        peerCredentials(of: channel).whenComplete { result in
            guard case .success(let cred) = result else {
                channel.close(promise: nil)
                return
            }
            Task {
                let answer = await server.execute(words, uid: cred.uid)
                var buffer = channel.allocator.buffer(capacity: answer.utf8.count)
                buffer.writeString(answer)
                channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        answered = true
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Answers are one JSON object: {"ok":true,...} or {"ok":false,"error":"..."}.
enum ControlReply {
    static func error(_ message: String) -> String { "{\"ok\":false,\"error\":\(JSON.quote(message))}\n" }
    static func ok(_ fields: [(String, String)] = []) -> String {
        "{\"ok\":true" + fields.map { ",\(JSON.quote($0.0)):\($0.1)" }.joined() + "}\n"
    }
}
