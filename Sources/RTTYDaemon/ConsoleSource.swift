import Logging
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem
import SystemPackage

/// What is open for a console: the NIO channel carrying its bytes, plus what NIO does not
/// expose: a descriptor for termios and BREAK (devices, exec ptys) and the child (exec).
struct OpenSource {
    var channel: Channel
    var control: SystemPackage.FileDescriptor?
    var child: Int32?
}

/// Reopen delays after a device is lost: 0.5 s doubling to 30 s. The delay resets only when
/// the device stayed up for a while, so a command that dies at once is not re-run in a
/// tight loop.
struct SourceBackoff {
    static let first = 0.5
    static let limit = 30.0
    static let stableAfter = 5.0
    private(set) var next = SourceBackoff.first

    mutating func failed() -> Double {
        let delay = next
        next = min(next * 2, SourceBackoff.limit)
        return delay
    }

    mutating func wasUp(for seconds: Double) {
        if seconds >= SourceBackoff.stableAfter { next = SourceBackoff.first }
    }

    /// The source just appeared (ConsoleHub+Watch.swift): retry quickly, doubling from
    /// 50 ms, while it is not ready yet (a socket bound but not listening).
    static let quick = 0.05
    mutating func appeared() { next = SourceBackoff.quick }
}

/// Passes device output to the console and reports its loss (EIO from a closed pty, EOF
/// from a socket, hang-up of a serial line).
final class DeviceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let hub: ConsoleHub
    private var lossReason: String?

    init(hub: ConsoleHub) {
        self.hub = hub
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        hub.deviceOutput(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        hub.deviceOutputComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        hub.deviceWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let io = error as? IOError, io.errnoCode == EIO_CODE {
            lossReason = "hang-up (EIO)"
        } else {
            lossReason = "\(error)"
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        hub.deviceClosed(context.channel, reason: lossReason ?? "end of file")
        context.fireChannelInactive()
    }
}

private let EIO_CODE: CInt = 5
/// Reads from a socket source before the clients are flushed.
private let readsPerBurst: UInt = 16

extension ConsoleHub {
    /// Opens the console's source; on failure the console stays listed and retries.
    func openSource() {
        loop.preconditionInEventLoop()
        guard !stopped, source == nil else { return }
        reopenTimer = nil
        switch config.source {
        case .device(let path):
            do {
                let fd = try Device.open(path)
                noteDevice(fd, path)
                do {
                    try Termios.configureLine(fd, settings)
                } catch {
                    try? fd.close()
                    throw error
                }
                adoptPipe(fd, child: nil)
            } catch {
                sourceFailed("cannot open \(path): \(error)")
            }
        case .exec(let argv, let rows, let cols):
            do {
                // A restart keeps the size the last client gave, not the configured one.
                let size = windowSize ?? (rows, cols)
                let child = try Spawn.underPty(argv, environment: execEnvironment(), rows: size.rows, cols: size.cols)
                adoptPipe(child.master, child: child.pid)
            } catch {
                sourceFailed("cannot run \(argv.joined(separator: " ")): \(error)")
            }
        case .unix(let path):
            ClientBootstrap(group: loop)
                .channelOption(.allowRemoteHalfClosure, value: false)
                .channelOption(.maxMessagesPerRead, value: readsPerBurst)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DeviceHandler(hub: self))
                    }
                }
                .connect(unixDomainSocketPath: path)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        self.sourceOpened(OpenSource(channel: channel, control: nil, child: nil))
                    case .failure(let error):
                        self.sourceFailed("cannot connect to \(path): \(error)")
                    }
                }
        }
    }

    /// Hands a tty or pty master to NIO as two close-on-exec copies (one to read, one to
    /// write: NIO's single-descriptor variant makes its own plain dup, which a program
    /// started meanwhile would inherit). The original stays ours for termios, BREAK and
    /// window size.
    private func adoptPipe(_ fd: SystemPackage.FileDescriptor, child: Int32?) {
        let input: SystemPackage.FileDescriptor, output: SystemPackage.FileDescriptor
        do {
            input = try fd.duplicateCloseOnExec()
            do {
                output = try fd.duplicateCloseOnExec()
            } catch {
                try? input.close()
                throw error
            }
        } catch {
            try? fd.close()
            if let child { Spawn.signal(child, SIGKILL_VALUE) }
            sourceFailed("cannot duplicate the device descriptor: \(error)")
            return
        }
        NIOPipeBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DeviceHandler(hub: self))
                }
            }
            .takingOwnershipOfDescriptors(input: input.rawValue, output: output.rawValue)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.sourceOpened(OpenSource(channel: channel, control: fd, child: child))
                case .failure(let error):
                    // Still ours to close when NIO refused them.
                    try? input.close()
                    try? output.close()
                    try? fd.close()
                    if let child { Spawn.terminate(child, grace: 0) }
                    self.sourceFailed("cannot watch the device: \(error)")
                }
            }
    }

    private func execEnvironment() -> [String] {
        [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=vt100",
            "RTTY_CONSOLE=\(config.name)",
        ]
    }

    private func sourceOpened(_ opened: OpenSource) {
        if stopped {
            opened.channel.close(promise: nil)
            release(opened)
            return
        }
        source = opened
        stopWatchingForSource()
        let wasDown = state
        state = .up(since: WallClock.monotonicSeconds())
        logger.info("source open: \(config.source.describe)")
        if case .down(let reason) = wasDown, reason != "not opened yet" {
            log?.mark("device back")
            metrics?.reopens.increment()
            record(.deviceBack)
            broadcast(notice: "device back")
        }
    }

    /// Device.open refuses a path that no longer names a character device; one that names
    /// another tty (a USB adapter back as ttyUSB1) is opened, and said.
    private func noteDevice(_ fd: SystemPackage.FileDescriptor, _ path: String) {
        let now = Device.rdev(fd)
        if let before = openedDevice, let now, now != before {
            logger.warning("\(path) now names another device (0x\(String(now, radix: 16)), was 0x\(String(before, radix: 16))); opened, as it is a terminal")
            log?.mark("\(path) is another device now")
        }
        openedDevice = now
    }

    private func sourceFailed(_ reason: String) {
        // Report a new problem loudly once; the same failure again on each retry quietly.
        if case .down(let previous) = state, previous == reason {
            logger.debug("\(reason); retrying")
        } else {
            logger.error("\(reason); retrying with back-off")
        }
        state = .down(reason)
        scheduleReopen(after: backoff.failed())
        watchForSource()
    }

    private func scheduleReopen(after seconds: Double) {
        guard !stopped else { return }
        reopenTimer?.cancel()
        reopenTimer = loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            self.reopenTimer = nil
            self.openSource()
        }
    }

    /// The device went away: tell everyone, keep the clients, reopen later.
    func deviceClosed(_ channel: Channel, reason: String) {
        guard let current = source, current.channel === channel else { return }
        source = nil
        var why = reason
        if let child = current.child, let status = Spawn.reapSoon(child) {
            why = "command \(status)"
        }
        release(current)
        if case .up(let since) = state {
            backoff.wasUp(for: WallClock.monotonicSeconds() - since)
        }
        state = .down(why)
        resumeInput()
        guard !stopped else { return }
        log?.mark("device lost: \(why)")
        record(.deviceLost, nil, ("reason", .text(why)))
        broadcast(notice: "device lost: \(why); reopening")
        logger.warning("device lost: \(why)")
        scheduleReopen(after: backoff.failed())
        watchForSource()
    }

    func closeSource() {
        guard let current = source else { return }
        source = nil
        current.channel.close(promise: nil)
        release(current)
        resumeInput()  // what held input back went with the channel (its close is not a loss)
    }

    /// Closes our descriptor and ends the command of an exec console off the event loop
    /// (a stubborn child may take a second to die).
    private func release(_ opened: OpenSource) {
        try? opened.control?.close()
        if let child = opened.child {
            Spawn.signal(child, SIGHUP_VALUE)
            if Spawn.reap(child) == nil {
                NIOThreadPool.singleton.submit { _ in Spawn.terminate(child, grace: 1.0) }
            }
        }
    }

    func deviceWritabilityChanged(_ writable: Bool) {
        if writable { resumeInput() } else { pauseInput() }
    }

    /// The device stopped taking input: no client's socket is read until it takes more, and
    /// a client that attaches meanwhile starts held back too (`enroll`), so input waits in
    /// the clients' own socket buffers, not in the daemon.
    private func pauseInput() {
        guard !inputPaused else { return }
        inputPaused = true
        for client in clients { reads(client, false) }
    }

    func resumeInput() {
        guard inputPaused else { return }
        inputPaused = false
        for client in clients {
            reads(client, true)
            if client.inputDropped > 0 {
                logger.warning("\(client.who): \(client.inputDropped) bytes of input were dropped while the device was not taking any")
                client.inputDropped = 0
            }
        }
    }

    func reads(_ client: ClientSession, _ on: Bool) {
        client.channel.setOption(.autoRead, value: on).whenFailure { _ in }
    }

    /// The device queue is full. Held back, clients can only add what they had read when
    /// input was paused, so this is a backstop (many clients at once): the input is
    /// dropped, and the client told once per stall.
    func dropInput(_ count: Int, from client: ClientSession) {
        if client.inputDropped == 0 {
            client.refuse("console \(config.name) is not taking input (\(deviceQueued) bytes wait for it); input dropped until it does")
        }
        client.inputDropped += count
    }
}

private let SIGHUP_VALUE: CInt = 1
private let SIGKILL_VALUE: CInt = 9
