import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import RTTYCore
import RTTYSystem
import SystemPackage

@testable import RTTYDaemon

/// One console hub on an EmbeddedEventLoop: virtual time (`advance`), the device an
/// EmbeddedChannel carrying the real DeviceHandler, clients EmbeddedChannels carrying the
/// real ClientHandler or TCPClientHandler. The credentials a Unix-socket client gets are
/// the rig's to give (`peer`); the ACL, the audit log and the daemon log are real, in a
/// temporary directory.
final class HubRig {
    let loop = EmbeddedEventLoop()
    let root: String
    let hub: ConsoleHub
    private(set) var device: EmbeddedChannel
    let logs = LogCapture()
    private let peers = PeerBox()
    /// With `linePty`: a real pty whose slave stands for the serial line (BREAK, settings).
    private let line: PtyPair?

    /// `console` is added to a device console's table; `acl` is the ACL file.
    init(console extra: String = "", defaults: String = "", acl: String = "", linePty: Bool = false) throws {
        root = NSTemporaryDirectory() + "rtty-hub-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/log", withIntermediateDirectories: true)
        try acl.write(toFile: root + "/access", atomically: true, encoding: .utf8)
        let config = try ConfigParser.parse(
            """
            [paths]
            socket_dir = "\(root)/run"
            log_dir = "\(root)/log"
            audit_log = "\(root)/log/audit.jsonl"
            session_dir = "\(root)/log/sessions"
            access = "\(root)/access"

            [defaults]
            log = false
            transcript = false
            \(defaults)

            [console.pbx]
            device = "\(root)/no-such-device"
            \(extra)
            """, file: "rtty.conf")
        let logs = self.logs
        let logger = Logger(label: "rttyd") { _ in logs }
        let peers = self.peers
        hub = ConsoleHub(
            config: config.consoles[0], paths: config.paths, loop: loop,
            access: AccessControl(path: config.paths.access, logger: logger),
            audit: AuditLog(path: config.paths.auditLog, logger: logger), logger: logger,
            credentials: { channel in
                guard let peer = peers.take() else { return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported) }
                return channel.eventLoop.makeSucceededFuture(peer)
            })
        line = linePty ? try Pty.open() : nil
        device = try Self.openDevice(hub, loop, control: line.map { try $0.slave.duplicateCloseOnExec() })
    }

    private static func openDevice(_ hub: ConsoleHub, _ loop: EmbeddedEventLoop, control: SystemPackage.FileDescriptor?) throws -> EmbeddedChannel {
        let device = EmbeddedChannel(handler: DeviceHandler(hub: hub), loop: loop)
        try device.connect(to: SocketAddress(unixDomainSocketPath: "/device")).wait()
        hub.supervisor.opened(OpenSource(channel: device, control: control, child: nil))
        return device
    }

    /// The device hangs up (end of file), and a new one is opened in its place.
    func replaceDevice() throws {
        device.pipeline.fireChannelInactive()
        device = try Self.openDevice(hub, loop, control: nil)
    }

    deinit {
        try? line?.master.close()
        try? line?.slave.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A Unix-socket client with these kernel credentials (nil: they cannot be read).
    func client(uid: UInt32? = 0, pid: Int32 = 4242, who: String? = "tester@pts/9", hello: String? = nil) throws -> TestClient {
        peers.set(uid.map { PeerCredentials(pid: pid, uid: $0, gid: 0) })
        let channel = EmbeddedChannel(handler: ClientHandler(hub: hub), loop: loop)
        try channel.connect(to: SocketAddress(unixDomainSocketPath: root + "/pbx")).wait()
        let client = TestClient(channel, form: hello == nil ? .classic : .extended)
        if let hello { try client.send(.withText(.hello, hello)) }
        if let who { try client.send(.withText(.whosOn, who)) }
        return client
    }

    /// A TCP client from `address`, raw bytes or telnet.
    func tcpClient(_ mode: Config.TCPAccess.Mode, from address: String = "127.0.0.1", port: Int = 40000) throws -> TestClient {
        let channel = EmbeddedChannel(handler: TCPClientHandler(hub: hub, mode: mode), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: address, port: port)).wait()
        return TestClient(channel, form: mode == .raw ? .raw : .telnet)
    }

    /// Device output, as one device read; `complete` ends the wake-up's reads.
    func output(_ bytes: [UInt8], complete: Bool = true) throws {
        var buffer = device.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try device.writeInbound(buffer)
        if complete { device.pipeline.fireChannelReadComplete() }
    }

    func output(_ text: String) throws { try output(Array(text.utf8)) }

    /// What reached the device from clients.
    func deviceInput() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try device.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    func advance(_ amount: TimeAmount) { loop.advanceTime(by: amount) }

    /// The audit records written so far, as their JSON lines.
    func auditLines() -> [String] {
        let text = (try? String(contentsOfFile: root + "/log/audit.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }
}

/// One client's end of the wire: every byte it was sent, and those bytes read as frames
/// (Unix-socket clients) or as console bytes (TCP).
final class TestClient {
    let channel: EmbeddedChannel
    let form: WireForm
    /// Every byte written to this client, in order.
    private(set) var wire: [UInt8] = []
    private var parser = FrameParser(direction: .toClient)
    private var parsed: [Frame] = []

    init(_ channel: EmbeddedChannel, form: WireForm) {
        self.channel = channel
        self.form = form
    }

    /// Takes what was written to the client since the last call.
    @discardableResult
    func read() throws -> [UInt8] {
        var new: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { new += buffer.readableBytesView }
        wire += new
        if form.carriesFrames {
            parser.append(new)
            while let frame = try parser.next() { parsed.append(frame) }
        }
        return new
    }

    /// Every frame it was sent (a framed client).
    var frames: [Frame] {
        _ = try? read()
        return parsed
    }

    var notices: [String] {
        frames.filter { $0.kind == .notice }.map(\.text)
    }

    /// Console bytes: DATA payloads, or the whole wire of a TCP client.
    var data: [UInt8] {
        _ = try? read()
        return form.carriesFrames ? frames.filter { $0.kind == .data }.flatMap(\.payload) : wire
    }

    func send(_ frame: Frame) throws {
        try channel.writeInbound(FrameWriter.frame(frame, allocator: channel.allocator))
    }

    func send(bytes: [UInt8]) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    func type(_ text: String) throws {
        if form.carriesFrames { try send(.withPayload(.data, Array(text.utf8))) } else { try send(bytes: Array(text.utf8)) }
    }

    var isOpen: Bool { channel.isActive }

    /// The client's socket stops taking bytes (its buffer is above the high water mark).
    func stall() {
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.run()  // what the close future set off
    }

    /// The client goes away.
    func leave() throws {
        try channel.close().wait()
        channel.embeddedEventLoop.run()
    }
}

/// The credentials the next Unix-socket client is given.
final class PeerBox: Sendable {
    private let next = NIOLockedValueBox<PeerCredentials?>(nil)
    func set(_ peer: PeerCredentials?) { next.withLockedValue { $0 = peer } }
    func take() -> PeerCredentials? { next.withLockedValue { value in defer { value = nil }; return value } }
}

/// The daemon's log lines, kept for tests to read.
final class LogCapture: LogHandler, Sendable {
    private let lines = NIOLockedValueBox<[String]>([])
    var all: [String] { lines.withLockedValue { $0 } }

    func log(event: LogEvent) {
        lines.withLockedValue { $0.append("\(event.level): \(event.message)") }
    }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
}
