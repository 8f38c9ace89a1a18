import NIOCore
import RTTYCore

/// One TCP client of a console: raw bytes both ways, or telnet (options, IAC escaping,
/// BRK, RFC 2217 COM-PORT-OPTION). Broken telnet ends this client only, with a log line.
final class TCPClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let hub: ConsoleHub
    private let mode: Config.TCPAccess.Mode
    private var session: ClientSession?
    private var parser = Telnet.Parser()
    private var negotiator = Telnet.Negotiator()

    init(hub: ConsoleHub, mode: Config.TCPAccess.Mode) {
        self.hub = hub
        self.mode = mode
    }

    func channelActive(context: ChannelHandlerContext) {
        let session = hub.attachTCP(channel: context.channel, mode: mode)
        self.session = session
        if mode == .telnet && !session.closing { reply(negotiator.opening()) }
        if !session.closing { hub.startTCPSession(session) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let session, !session.closing else { return }
        guard mode == .telnet else {
            hub.input(Array(buffer.readableBytesView), from: session)
            return
        }
        let events: [Telnet.Event]
        do {
            events = try parser.feed(buffer.readableBytesView)
        } catch {
            hub.protocolError(session, "telnet: \(error)")
            return
        }
        for event in events where !session.closing {
            switch event {
            case .data(let bytes):
                hub.input(bytes, from: session)
            case .command(Telnet.BRK):
                hub.sendBreak(by: session)
            case .command:
                break  // NOP, AYT, IP, ...: nothing a serial line needs
            case .negotiate(let verb, let option):
                let wasComPort = negotiator.isOn(theirs: Telnet.Option.comPort)
                reply(negotiator.handle(verb: verb, option: option))
                parser.binaryInput = negotiator.isOn(theirs: Telnet.Option.binary)
                if !wasComPort && negotiator.isOn(theirs: Telnet.Option.comPort) {
                    // RFC 2217 clients learn the modem lines from the server's notifications.
                    reply(hub.comPort(.notifyModemState, from: session))
                }
            case .subnegotiation(Telnet.Option.comPort, let payload):
                switch ComPort.parse(payload) {
                case .success(let request): reply(hub.comPort(request, from: session))
                case .failure(let error): hub.protocolError(session, "RFC 2217: \(error)")
                }
            case .subnegotiation:
                break  // options we refused
            }
        }
    }

    private func reply(_ bytes: [UInt8]) {
        session?.send(telnet: bytes)
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
