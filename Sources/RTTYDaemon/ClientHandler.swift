import NIOCore
import RTTYCore

/// Reads a client's frames and hands decoded requests to its console. A frame that breaks
/// the protocol ends this one client with a notice; nothing else is affected.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let hub: ConsoleHub
    private var parser = FrameParser(direction: .toServer, maxPayload: Frame.extendedMaxPayload)
    private var session: ClientSession?

    init(hub: ConsoleHub) {
        self.hub = hub
    }

    func channelActive(context: ChannelHandlerContext) {
        session = hub.attach(channel: context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let session, !session.closing else { return }
        parser.append(buffer.readableBytesView)
        do {
            while let frame = try parser.next() {
                hub.handle(ClientRequest.decode(frame), payloadBytes: frame.payload.count, from: session)
                if session.closing { return }
            }
        } catch {
            hub.protocolError(session, "\(error)")
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, let session {
            hub.tooSlow(session)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
