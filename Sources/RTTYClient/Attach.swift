import NIOCore
import NIOPosix
import RTTYCore
import RTTYSession
import RTTYSystem
import SystemPackage

public struct AttachOptions: Sendable {
    public var socketPath: String
    public var readOnly = false
    public var noReplay = false
    /// Seconds to keep printing after standard input ends; nil = until the daemon closes.
    public var timeout: Double?
    /// Escapes on a pipe; on a terminal they are always on.
    public var escapesOnPipe = false
    /// Session metadata for the audit log (rtty-shell: SSH_CONNECTION, SSH_TTY, TERM, COMMAND).
    public var metadata: [String: String] = [:]
    /// Who attaches: names the messages and decides their advice.
    public var client = AttachClient.rtty
    /// `~b` may end the session to start a broadcast (rtty; not rtty-shell).
    public var allowBroadcast = false

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// The console as messages name it: the socket's name.
    var console: String { socketPath.split(separator: "/").last.map(String.init) ?? socketPath }
}

/// An attached console session: the socket and (where it can be reopened) the keyboard through NIO,
/// otherwise a reader thread (stdin may also be a socket or a plain file); output written to stdout.
public final class Attachment: @unchecked Sendable {
    private let options: AttachOptions
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let loop: EventLoop
    private let input = FileDescriptor.standardInput
    private let output = FileDescriptor.standardOutput
    private let interactive: Bool
    private var saved: SavedTerminal?
    private var escapes: EscapeMachine
    private var useEscapes: Bool
    private var channel: Channel?
    private var maxPayload = Frame.classicMaxPayload
    private var finished: EventLoopPromise<Int32>
    private var lineEnd: String
    private var done = false
    /// How the session ended, if the daemon's last notice said (`ClosingNotice`).
    private var closedBecause: ExitStatus?
    /// Piped input handed to the socket, and how much of it the socket took: the rest was
    /// never sent (the console stopped taking input) when `--timeout` ends the session.
    private var inputQueued = 0
    private var inputSent = 0
    private var readOnlySession: Bool
    /// The list typed after `~b`: the caller goes on with a broadcast to it.
    public private(set) var broadcastList: String?

    public init(_ options: AttachOptions) {
        self.options = options
        self.loop = group.next()
        self.interactive = Termios.isTerminal(.standardInput)
        self.escapes = EscapeMachine(restricted: options.readOnly)
        self.useEscapes = interactive || options.escapesOnPipe
        self.finished = loop.makePromise(of: Int32.self)
        self.lineEnd = "\n"
        self.readOnlySession = options.readOnly
    }

    /// Runs until the user leaves or the daemon closes; returns the exit status.
    public func run() async -> Int32 {
        let connected: Channel
        do {
            // Connected here, not by NIO, so that a failure is a SocketProblem that says why.
            let fd = try SocketProblem.connect(path: options.socketPath).get()
            connected = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ServerFrameHandler(attachment: self))
                    }
                }
                .withConnectedSocket(fd.rawValue).get()
        } catch {
            let failure = (error as? SocketProblem).map { ConnectFailure($0, path: options.socketPath, console: options.console, client: options.client) }
            message(failure?.message ?? "\(options.client.name): cannot attach to console \(options.console) (\(options.socketPath)): \(error)")
            let status = (failure?.status ?? .error).rawValue
            finished.succeed(status)
            try? await group.shutdownGracefully()
            return status
        }
        loop.execute { self.started(connected) }
        let status = (try? await finished.futureResult.get()) ?? 1
        restoreTerminal()
        try? await group.shutdownGracefully()
        return status
    }

    private func started(_ channel: Channel) {
        self.channel = channel
        var hello = RTTYVersion.protocolName
        if options.readOnly { hello += " ro" }
        if options.noReplay { hello += " noreplay" }
        send(.withText(.hello, hello))
        if !options.metadata.isEmpty {
            send(.withText(.metadata, options.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")))
        }
        let tty = Files.ttyName(.standardInput).map { $0.replacingPrefix("/dev/", with: "") } ?? "pipe"
        send(.withText(.whosOn, "\(Accounts.currentUserName())@\(tty)"))
        if interactive {
            saved = try? Termios.makeRaw(.standardInput)
            lineEnd = "\r\n"
            sendWindowSize()
        }
        startKeyboard()
    }

    // MARK: from the daemon

    func received(_ frame: Frame) {
        closedBecause = frame.kind == .notice ? ClosingNotice.exitStatus(after: frame.text) : nil
        switch frame.kind {
        case .data:
            frame.payload.withUnsafeBytes { _ = try? output.writeAll($0) }
        case .notice:
            if frame.text == "authorized" { return }
            message("[\(frame.text)]")
        case .hello:
            maxPayload = Frame.extendedMaxPayload
            let reply = HelloReply(frame.text)
            if reply["rights"] == "ro" {
                readOnlySession = true
                if !escapes.restricted { escapes = EscapeMachine(restricted: true) }
            }
            message("[connected to \(reply["console"] ?? options.socketPath), \(reply["state"] == "up" ? "device up" : "device down"); ~? for help]")
        case .error:
            message("[error: \(frame.text)]")
        case .result:
            if frame.text.hasPrefix("error") { message("[\(frame.text)]") }
        case .settings:
            message("[\(frame.text)]")
        case .baud, .parity, .wordSize:
            break
        default:
            break
        }
    }

    /// The daemon closed: its last notice, if it was a closing one, says why (and was
    /// shown); without one the console went away (rttyd stopped or died).
    func closedByDaemon() {
        guard !done else { return }
        let status = closedBecause ?? .consoleClosed
        message(closedBecause == nil ? "[connection closed by rttyd]" : "[connection closed]")
        if status == .denied {
            message("\(options.client.name): ask an admin for `rttyctl grant \(Accounts.currentUserName()) \(options.console)`")
        }
        finish(status.rawValue)
    }

    func finish(_ status: Int32) {
        guard !done else { return }
        done = true
        restoreTerminal()
        finished.succeed(status)
        channel?.close(promise: nil)
    }

    // MARK: keyboard

    /// Keys go straight from the event loop when stdin is a pipe or a tty that can be
    /// reopened privately (no thread hop per keystroke); otherwise a reader thread.
    private func startKeyboard() {
        guard let fd = Files.reopenForReading(input) else { return startKeyboardThread() }
        NIOPipeBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(KeyboardHandler(attachment: self))
                }
            }
            .takingOwnershipOfDescriptor(input: fd.rawValue)
            .whenFailure { _ in
                try? fd.close()
                self.startKeyboardThread()
            }
    }

    private func startKeyboardThread() {
        let fd = input
        let loop = self.loop
        let thread = ReaderThread {
            var chunk = [UInt8](repeating: 0, count: 16_384)
            while true {
                let n: Int
                do {
                    n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
                } catch Errno.interrupted {
                    continue
                } catch {
                    n = 0
                }
                let bytes = Array(chunk.prefix(n))
                loop.execute { n == 0 ? self.inputEnded() : self.typed(bytes) }
                if n == 0 { return }
            }
        }
        thread.start()
    }

    func typed(_ bytes: [UInt8]) {
        guard useEscapes else {
            sendInput(bytes)
            return
        }
        for action in escapes.feed(bytes) {
            perform(action)
        }
    }

    func inputEnded() {
        guard !interactive else { return finish(0) }
        guard let timeout = options.timeout else { return }
        loop.scheduleTask(in: .milliseconds(Int64(timeout * 1000))) { self.timedOut() }
    }

    /// The `--timeout` after the end of piped input ran out: a success only if all of the
    /// input went out (a stalled console, or a read-only session, took none or part of it).
    private func timedOut() {
        let unsent = inputQueued - inputSent
        guard unsent > 0 || (readOnlySession && inputQueued > 0) else { return finish(ExitStatus.left.rawValue) }
        let why = readOnlySession
            ? "\(inputQueued) bytes of input were not typed into console \(options.console): the session is read-only"
            : "\(unsent) of \(inputQueued) bytes of input were never sent to console \(options.console): it stopped taking input (a stalled device or flow control); try a longer --timeout"
        message("\(options.client.name): \(why)")
        finish(ExitStatus.error.rawValue)
    }

    private func perform(_ action: EscapeMachine.Action) {
        switch action {
        case .send(let bytes): sendInput(bytes)
        case .quit:
            message("[leaving]")
            finish(0)
        case .sendBreak: send(Frame(.breakSignal))
        case .help: message(EscapeMachine.helpText)
        case .query(.who): send(Frame(.whosOn, query: true))
        case .query(.tail): send(Frame(.tail, query: true))
        case .query(.version):
            message("[\(RTTYVersion.string) (client)]")
            send(Frame(.version, query: true))
        case .query(.settings): send(.withText(.settings, query: true, ""))
        case .set(let key, let value): send(.withText(.settings, "\(key)=\(value)"))
        case .replay: send(.withText(.replay, ""))
        case .takeWriteLock: send(.withText(.writeLock, "take"))
        case .releaseWriteLock: send(.withText(.writeLock, "release"))
        case .suspend: suspend()
        case .broadcast(let list):
            guard options.allowBroadcast else { return message("[~b is for rtty on the console host]") }
            broadcastList = list
            message("[leaving \(options.console) for a broadcast]")
            finish(0)
        case .echo(let text): writeError(text)
        case .refused(let why): message("[\(why)]")
        }
    }

    private func suspend() {
        restoreTerminal()
        Signals.stopSelf()
        if interactive {
            saved = try? Termios.makeRaw(.standardInput)
            lineEnd = "\r\n"
        }
    }

    // MARK: to the daemon

    private func sendInput(_ bytes: [UInt8]) {
        var start = 0
        while start < bytes.count {
            let end = min(start + maxPayload, bytes.count)
            let count = end - start
            inputQueued += count
            let written = loop.makePromise(of: Void.self)
            written.futureResult.whenSuccess { self.inputSent += count }
            send(.withPayload(.data, Array(bytes[start..<end])), promise: written)
            start = end
        }
    }

    func send(_ frame: Frame, promise: EventLoopPromise<Void>? = nil) {
        guard let channel else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var buffer = channel.allocator.buffer(capacity: frame.payload.count + Frame.headerSize)
        buffer.writeBytes(frame.encoded())
        channel.writeAndFlush(buffer, promise: promise)
    }

    func sendWindowSize() {
        guard let size = Termios.windowSize(.standardInput) else { return }
        let rows = UInt16(clamping: size.rows), cols = UInt16(clamping: size.cols)
        send(.withPayload(.windowSize, [UInt8(rows >> 8), UInt8(rows & 0xFF), UInt8(cols >> 8), UInt8(cols & 0xFF)]))
    }

    // MARK: terminal

    /// Client messages go to stderr, so stdout carries console bytes only.
    private func message(_ text: String) {
        writeError((saved != nil ? "\r\n" : "") + text.replacingNewlines(with: lineEnd) + lineEnd)
    }

    private func writeError(_ text: String) {
        Array(text.utf8).withUnsafeBytes { _ = try? FileDescriptor.standardError.writeAll($0) }
    }

    private func restoreTerminal() {
        if let saved { Termios.restore(saved) }
        saved = nil
        lineEnd = "\n"
    }

    /// Signals: leave cleanly on TERM/HUP/INT, pass window changes on.
    public func handle(signal name: String) {
        loop.execute {
            if name == "WINCH" {
                self.sendWindowSize()
            } else {
                self.message("[\(self.options.client.name): SIG\(name), leaving]")
                self.finish(name == "HUP" ? 0 : 1)
            }
        }
    }
}

/// Keys from stdin, on the attachment's event loop.
final class KeyboardHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let attachment: Attachment

    init(attachment: Attachment) {
        self.attachment = attachment
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        attachment.typed(Array(unwrapInboundIn(data).readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        attachment.inputEnded()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Reads frames from the daemon and hands them to the attachment.
final class ServerFrameHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let attachment: Attachment
    private var parser = FrameParser(direction: .toClient, maxPayload: Frame.extendedMaxPayload)

    init(attachment: Attachment) {
        self.attachment = attachment
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        parser.append(unwrapInboundIn(data).readableBytesView)
        do {
            while let frame = try parser.next() { attachment.received(frame) }
        } catch {
            attachment.received(.notice("bad frame from the daemon: \(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        attachment.closedByDaemon()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }

    public func replacingNewlines(with lineEnd: String) -> String {
        lineEnd == "\n" ? self : split(separator: "\n", omittingEmptySubsequences: false).joined(separator: lineEnd)
    }
}
