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
///
/// No peer holds more than its share: at most `maxPerPeer` connections per uid and
/// `maxConnections` in all (more are refused at once, with the reason), a whole request
/// line within `requestSeconds` of connecting however slowly it trickles in, answers
/// streamed as the peer reads them (a chunk the peer leaves unread for `stallSeconds` ends
/// the connection), and the listener behind the consoles' AcceptGuard, so running out of
/// descriptors refuses instead of spinning.
final class RequestServer: Sendable {
    static let maxRequest = RequestLine.maxBytes
    static let maxPerPeer = 16
    static let maxConnections = 128
    static let requestSeconds: Int64 = 5
    static let stallSeconds: Int64 = 30
    typealias Refusal = @Sendable (_ uid: UInt32) -> String?
    typealias Answer = @Sendable (_ line: String, _ uid: UInt32) async -> RequestAnswer

    let name: String
    let logger: Logger
    let refusal: Refusal
    let answer: Answer
    private let channel = NIOLockedValueBox<Channel?>(nil)
    /// Open connections per uid that got past `refusal`.
    private let open = NIOLockedValueBox<[UInt32: Int]>([:])

    /// `refusal` returns why this uid may not use the socket, or nil to let it ask.
    init(name: String, logger: Logger, refusal: @escaping Refusal, answer: @escaping Answer) {
        self.name = name
        self.logger = logger
        self.refusal = refusal
        self.answer = answer
    }

    /// Listens at `path`, mode 0660 with the socket's group `group` (nil = the daemon's).
    func start(path: String, group: UInt32?, on loop: EventLoop) async throws {
        let fd = try UnixSocket.listen(path: path, group: group, mode: 0o660)
        let listenFD = fd.rawValue
        let (name, logger) = (self.name, self.logger)
        let listener = try await ServerBootstrap(group: loop)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptGuard(listenFD: listenFD) { refused, error in
                            logger.error("\(name) socket cannot accept: \(error); refused \(refused) waiting peer(s); raise LimitNOFILE / ulimit -n")
                        })
                }
            }
            .childChannelOption(.autoRead, value: false)
            // A peer that half-closes after its request still gets the answer.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(server: self))
                }
            }
            .withBoundSocket(listenFD).get()
        channel.withLockedValue { $0 = listener }
    }

    func stop(path: String) async {
        try? await channel.withLockedValue { $0 }?.close().get()
        UnixSocket.remove(path: path)
    }

    /// Takes a connection slot for `uid`; nil if taken, else why not.
    func admit(_ uid: UInt32) -> String? {
        open.withLockedValue { open in
            if open[uid, default: 0] >= Self.maxPerPeer {
                return "too many connections from uid \(uid) (at most \(Self.maxPerPeer) at once); closing"
            }
            if open.values.reduce(0, +) >= Self.maxConnections {
                return "too many connections (at most \(Self.maxConnections) at once); closing"
            }
            open[uid, default: 0] += 1
            return nil
        }
    }

    func release(_ uid: UInt32) {
        open.withLockedValue { open in
            open[uid, default: 1] -= 1
            if open[uid] == 0 { open[uid] = nil }
        }
    }
}

/// How a request is answered: one line built whole (small answers), or a stream the
/// producer writes chunk by chunk, each write waiting until the peer has taken the one
/// before (a transcript, the audit log, a console log that may be followed).
enum RequestAnswer: Sendable {
    case line(String)
    case stream(@Sendable (AnswerWriter) async throws -> Void)
}

/// The peer's end of a streamed answer.
struct AnswerWriter: Sendable {
    static let chunkBytes = 64 * 1024
    let channel: Channel
    /// Set when the peer closes its side: a follower, which may have nothing to write for
    /// a long time, stops then rather than holding the connection.
    let peerClosed = NIOLockedValueBox(false)

    var isOpen: Bool { channel.isActive && !peerClosed.withLockedValue { $0 } }

    func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    /// Returns when the kernel has the bytes: at most one chunk per peer waits in memory.
    /// A peer that takes nothing for `stallSeconds` is closed, which ends the producer.
    func write(_ bytes: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let channel = self.channel
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(buffer, promise: written)
        let stall = channel.eventLoop.scheduleTask(in: .seconds(RequestServer.stallSeconds)) { channel.close(promise: nil) }
        written.futureResult.whenComplete { _ in stall.cancel() }
        try await written.futureResult.get()
    }
}

/// Checks the peer, then reads one line, answers, closes. On the channel's loop only.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let server: RequestServer
    private var request: [UInt8] = []
    private enum State { case checking, reading(uid: UInt32), answering, closed }
    private var state = State.checking
    /// The uid holding a connection slot, released when the connection closes.
    private var admitted: UInt32?
    private var deadline: Scheduled<Void>?
    private var writer: AnswerWriter?

    init(server: RequestServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .seconds(RequestServer.requestSeconds)) {
            let (handler, context) = bound.value
            switch handler.state {
            case .checking, .reading: handler.reply(context, ControlReply.error("no whole request within \(RequestServer.requestSeconds) s; closing"))
            case .answering, .closed: break
            }
        }
        peerCredentials(of: context.channel).whenComplete { result in
            let (handler, context) = bound.value
            guard case .checking = handler.state else { return }
            switch result {
            case .success(let cred):
                if let refusal = handler.server.refusal(cred.uid) ?? handler.admit(cred.uid) {
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

    private func admit(_ uid: UInt32) -> String? {
        if let refusal = server.admit(uid) { return refusal }
        admitted = uid
        return nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        deadline?.cancel()
        if let uid = admitted { server.release(uid) }
        admitted = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After the request, reads only notice the peer hanging up; what it sends is dropped.
        guard case .reading(let uid) = state else { return }
        request += unwrapInboundIn(data).readableBytesView
        guard let newline = request.firstIndex(of: 10) else {
            if request.count > RequestServer.maxRequest { reply(context, ControlReply.error("request longer than \(RequestServer.maxRequest) bytes")) }
            return
        }
        state = .answering
        deadline?.cancel()
        let line = String(decoding: request[..<newline], as: UTF8.self)
        request = []
        let writer = AnswerWriter(channel: context.channel)
        self.writer = writer
        let server = self.server
        Task {
            switch await server.answer(line, uid) {
            case .line(let text): try? await writer.write(text)
            case .stream(let produce): try? await produce(writer)
            }
            writer.channel.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            writer?.peerClosed.withLockedValue { $0 = true }
            if case .reading = state { reply(context, ControlReply.error("the request ended without a newline")) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// autoRead is off: ask for more while a line is being read, and while answering, so
    /// that a peer's hang-up is seen (a follower stops streaming then).
    func channelReadComplete(context: ChannelHandlerContext) {
        switch state {
        case .reading, .answering: context.read()
        case .checking, .closed: break
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        state = .answering
        deadline?.cancel()
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        let channel = context.channel
        context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
