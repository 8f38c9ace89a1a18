import Logging
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem

/// A Unix socket that takes one request line, answers once, and closes: the control socket
/// for rttyctl and the report socket for rtty-shell. Who may ask what is decided by the
/// `answer` function from the uid in the socket's peer credentials.
final class RequestServer: @unchecked Sendable {
    static let maxRequest = 4096
    typealias Answer = @Sendable (_ line: String, _ uid: UInt32) async -> String

    let answer: Answer
    private var channel: Channel?

    init(answer: @escaping Answer) {
        self.answer = answer
    }

    /// Listens at `path`, mode 0660 with the socket's group `group` (nil = the daemon's).
    func start(path: String, group: UInt32?, on loop: EventLoop) async throws {
        let fd = try UnixSocket.listen(path: path, group: group, mode: 0o660)
        channel = try await ServerBootstrap(group: loop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(server: self))
                }
            }
            .withBoundSocket(fd.rawValue).get()
    }

    func stop(path: String) async {
        try? await channel?.close().get()
        UnixSocket.remove(path: path)
    }
}

/// Reads one line, answers, closes.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let server: RequestServer
    private var request: [UInt8] = []
    private var answered = false

    init(server: RequestServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        request += unwrapInboundIn(data).readableBytesView
        guard let newline = request.firstIndex(of: 10) else {
            if request.count > RequestServer.maxRequest { reply(context, ControlReply.error("request longer than \(RequestServer.maxRequest) bytes")) }
            return
        }
        answered = true
        let line = String(decoding: request[..<newline], as: UTF8.self)
        let channel = context.channel
        let server = self.server
        peerCredentials(of: channel).whenComplete { result in
            guard case .success(let cred) = result else {
                channel.close(promise: nil)
                return
            }
            Task {
                let answer = await server.answer(line, cred.uid)
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
