import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem

/// A Unix socket that takes one request line, answers once, and closes: the control socket
/// for rttyctl and the report socket for rtty-shell. The peer's credentials come first:
/// `refusal` decides from the kernel's uid whether this peer may ask at all, and only then is
/// a byte of its request read (the child channels start with autoRead off). What a peer
/// may ask is then up to `answer`, from the same uid.
final class RequestServer: Sendable {
    static let maxRequest = 4096
    typealias Refusal = @Sendable (_ uid: UInt32) -> String?
    typealias Answer = @Sendable (_ line: String, _ uid: UInt32) async -> String

    let refusal: Refusal
    let answer: Answer
    private let channel = NIOLockedValueBox<Channel?>(nil)

    /// `refusal` returns why this uid may not use the socket, or nil to let it ask.
    init(refusal: @escaping Refusal, answer: @escaping Answer) {
        self.refusal = refusal
        self.answer = answer
    }

    /// Listens at `path`, mode 0660 with the socket's group `group` (nil = the daemon's).
    func start(path: String, group: UInt32?, on loop: EventLoop) async throws {
        let fd = try UnixSocket.listen(path: path, group: group, mode: 0o660)
        let listener = try await ServerBootstrap(group: loop)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(server: self))
                }
            }
            .withBoundSocket(fd.rawValue).get()
        channel.withLockedValue { $0 = listener }
    }

    func stop(path: String) async {
        try? await channel.withLockedValue { $0 }?.close().get()
        UnixSocket.remove(path: path)
    }
}

/// Checks the peer, then reads one line, answers, closes. On the channel's loop only.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let server: RequestServer
    private var request: [UInt8] = []
    private enum State { case checking, reading(uid: UInt32), answered }
    private var state = State.checking

    init(server: RequestServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        peerCredentials(of: context.channel).whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let cred):
                if let refusal = handler.server.refusal(cred.uid) {
                    handler.reply(context, ControlReply.error(refusal))
                } else {
                    handler.state = .reading(uid: cred.uid)
                    context.read()
                }
            case .failure:
                // Fail closed: nobody whose uid the kernel did not tell us is heard.
                handler.reply(context, ControlReply.error("cannot verify who you are; closing"))
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .reading(let uid) = state else { return }
        request += unwrapInboundIn(data).readableBytesView
        guard let newline = request.firstIndex(of: 10) else {
            if request.count > RequestServer.maxRequest { reply(context, ControlReply.error("request longer than \(RequestServer.maxRequest) bytes")) }
            return
        }
        state = .answered
        let line = String(decoding: request[..<newline], as: UTF8.self)
        let channel = context.channel
        let server = self.server
        Task {
            let answer = await server.answer(line, uid)
            var buffer = channel.allocator.buffer(capacity: answer.utf8.count)
            buffer.writeString(answer)
            channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// autoRead is off: ask for more only while a line is still being read.
    func channelReadComplete(context: ChannelHandlerContext) {
        if case .reading = state { context.read() }
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        state = .answered
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

    /// A reply type from RTTYCore (with its own `ok` field), as one line.
    static func encode<Reply: Encodable>(_ reply: Reply) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(reply) else { return error("the daemon could not encode its answer") }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
