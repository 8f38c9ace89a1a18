import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import RTTYCore
import RTTYSystem

/// The daemon's Prometheus series and the endpoint that serves them (`[control] metrics`,
/// off unless configured): `GET /metrics` over HTTP/1.1 on the configured address or Unix
/// socket, nowhere else. A scraper is trusted with nothing: NIOHTTP1 parses the request
/// (its header limits lowered to `maxRequestBytes`), of which only the method and path are
/// read; a connection that has not sent its whole request within `requestSeconds`, or
/// sends more than `maxRequestBytes`, is closed, and at most `maxConnections` are open.
final class DaemonMetrics: Sendable {
    static let maxRequestBytes = 8192
    static let requestSeconds: Int64 = 10
    static let maxConnections = 16

    let registry = PrometheusCollectorRegistry()
    let reloads: Counter
    private let syslogDropped: Counter
    private let openDescriptors: Gauge
    private let descriptorLimit: Gauge
    private let logger: Logger

    private struct Serving {
        var endpoint: MetricsEndpoint?
        var channel: Channel?
        var syslogDroppedSeen = 0
    }
    private let serving = NIOLockedValueBox(Serving())
    private let connections = NIOLockedValueBox(0)
    /// Consoles that have series.
    private let known = NIOLockedValueBox(Set<String>())

    init(logger: Logger) {
        self.logger = logger
        registry.gauge("process_start_time", unit: "seconds", "Start time of rttyd since the Unix epoch, in seconds.")
            .set(to: Double(WallClock.now().seconds))
        reloads = registry.counter("rtty_reloads", unit: "total", "Configuration reloads (SIGHUP or rttyctl reload), refused ones included.")
        syslogDropped = registry.counter("rtty_audit_syslog_dropped", unit: "total", "Audit copies not sent to syslog or the journal (the audit file has them).")
        openDescriptors = registry.gauge("process_open_fds", unit: "", "Open file descriptors of rttyd.")
        descriptorLimit = registry.gauge("process_max_fds", unit: "", "rttyd's limit of open file descriptors (RLIMIT_NOFILE).")
    }

    /// A console hub's handle on its series (the same series for a hub that replaces it).
    func console(_ name: String) -> ConsoleMetrics {
        known.withLockedValue { _ = $0.insert(name) }
        return ConsoleMetrics(console: name, registry: registry)
    }

    /// After a reload: the series of consoles no longer configured go.
    func retain(consoles names: Set<String>) {
        let gone = known.withLockedValue { known in
            defer { known.formIntersection(names) }
            return known.subtracting(names)
        }
        for name in gone { ConsoleMetrics(console: name, registry: registry).unregister(from: registry) }
    }

    /// The exposition text: state read on every hub's own loop, then the whole registry.
    func scrape(_ hubs: [ConsoleHub], syslogDropped dropped: Int, on loop: EventLoop) -> EventLoopFuture<[UInt8]> {
        let observed = hubs.map { hub in hub.loop.submit { hub.observeMetrics() } }
        return EventLoopFuture.andAllComplete(observed, on: loop).map { [self] in
            let seen = serving.withLockedValue { state in
                defer { state.syslogDroppedSeen = dropped }
                return state.syslogDroppedSeen
            }
            if dropped > seen { syslogDropped.increment(by: Int64(dropped - seen)) }
            if let open = ProcessStats.openDescriptors() { openDescriptors.set(to: Double(open)) }
            if let limit = ProcessStats.descriptorLimit() { descriptorLimit.set(to: Double(limit)) }
            return registry.emitToBuffer()
        }
    }

    /// Serves `endpoint` (at start-up and after each reload): nothing when it is unchanged
    /// and served, else the old listener closed and the new one opened (a failed one is
    /// tried again at the next reload).
    func serve(_ endpoint: MetricsEndpoint?, adminGroup: String, on loop: EventLoop, scrape: @escaping @Sendable (EventLoop) -> EventLoopFuture<[UInt8]>) async {
        let replaced = serving.withLockedValue { state -> (endpoint: MetricsEndpoint?, channel: Channel?)? in
            if state.endpoint == endpoint && (state.channel != nil || endpoint == nil) { return nil }
            defer {
                state.endpoint = endpoint
                state.channel = nil
            }
            return (state.endpoint, state.channel)
        }
        guard let replaced else { return }
        try? await replaced.channel?.close().get()
        if case .unix(let path)? = replaced.endpoint, replaced.channel != nil { UnixSocket.remove(path: path) }
        guard let endpoint else { return }
        do {
            let channel = try await listen(endpoint, adminGroup: adminGroup, on: loop, scrape: scrape)
            serving.withLockedValue { $0.channel = channel }
            logger.notice("metrics at http://\(endpoint)/metrics")
        } catch {
            logger.error("no metrics endpoint at \(endpoint): \(error)")
        }
    }

    /// Whether an endpoint is configured, so that consoles count.
    var isOn: Bool { serving.withLockedValue { $0.endpoint != nil } }

    func stop() async {
        let (channel, endpoint) = serving.withLockedValue { state in
            defer { state = Serving(syslogDroppedSeen: state.syslogDroppedSeen) }
            return (state.channel, state.endpoint)
        }
        try? await channel?.close().get()
        if case .unix(let path)? = endpoint { UnixSocket.remove(path: path) }
    }

    private func listen(
        _ endpoint: MetricsEndpoint, adminGroup: String, on loop: EventLoop, scrape: @escaping @Sendable (EventLoop) -> EventLoopFuture<[UInt8]>
    ) async throws -> Channel {
        let limits = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = Self.maxRequestBytes
            limits.maxHeaderListSize = Self.maxRequestBytes
            return limits
        }()
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(.backlog, value: 16)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(MetricsRequestGuard(metrics: self))
                    try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true, withOutboundHeaderValidation: true, withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
                    try sync.addHandler(MetricsHTTPHandler(scrape: scrape))
                }
            }
        switch endpoint {
        case .tcp(let host, let port):
            return try await bootstrap.serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1).bind(host: host, port: port).get()
        case .unix(let path):
            // Made as the control socket is: root and the admin group only.
            let fd = try UnixSocket.listen(path: path, group: Accounts.groupID(named: adminGroup), mode: 0o660)
            return try await bootstrap.withBoundSocket(fd.rawValue).get()
        }
    }

    /// A slot for one scraper connection; false when `maxConnections` are open.
    fileprivate func opened() -> Bool {
        connections.withLockedValue { open in
            guard open < Self.maxConnections else { return false }
            open += 1
            return true
        }
    }

    fileprivate func closed() { connections.withLockedValue { $0 -= 1 } }
}

/// In front of the HTTP decoder: counts the connection, closes it after `requestSeconds`
/// or once it has sent more than `maxRequestBytes`, however slowly they trickle in.
private final class MetricsRequestGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let metrics: DaemonMetrics
    private var received = 0
    private var counted = false
    private var deadline: Scheduled<Void>?

    init(metrics: DaemonMetrics) { self.metrics = metrics }

    func channelActive(context: ChannelHandlerContext) {
        guard metrics.opened() else {
            context.close(promise: nil)
            return
        }
        counted = true
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: .seconds(DaemonMetrics.requestSeconds)) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if counted { metrics.closed() }
        counted = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received <= DaemonMetrics.maxRequestBytes else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

/// GET (or HEAD) /metrics: the exposition text, then the connection closes. Anything else
/// gets 404 or 405; only the request's method and path are looked at.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let scrape: @Sendable (EventLoop) -> EventLoopFuture<[UInt8]>
    private var head: HTTPRequestHead?

    init(scrape: @escaping @Sendable (EventLoop) -> EventLoopFuture<[UInt8]>) { self.scrape = scrape }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let request = head else { return }
            head = nil
            let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            guard request.method == .GET || request.method == .HEAD else {
                return Self.respond(context, .methodNotAllowed, Array("only GET /metrics is served\n".utf8), extra: [("Allow", "GET, HEAD")])
            }
            guard path == "/metrics" else { return Self.respond(context, .notFound, Array("only /metrics is served\n".utf8)) }
            let context = NIOLoopBound(context, eventLoop: context.eventLoop)
            let headOnly = request.method == .HEAD
            scrape(context.value.eventLoop).whenComplete { result in
                switch result {
                case .success(let text):
                    Self.respond(context.value, .ok, text, contentType: "text/plain; version=0.0.4; charset=utf-8", headOnly: headOnly)
                case .failure:
                    Self.respond(context.value, .internalServerError, Array("scrape failed\n".utf8))
                }
            }
        }
    }

    private static func respond(
        _ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ body: [UInt8], contentType: String = "text/plain; charset=utf-8",
        headOnly: Bool = false, extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.count)), ("Connection", "close")] + extra)
        headers.add(name: "Cache-Control", value: "no-store")
        context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !headOnly { context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
