import Logging
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem
import SystemPackage

/// Keeps one console's source open: opens it, reopens it with back-off when it is lost or
/// cannot be opened, watches for its path to appear, and carries input to it (bounded).
/// Its state is private and touched only on the console's loop; what the clients must be
/// told goes back to the hub (`sourceCameBack`, `sourceLost`, `holdInput`). Sendable only
/// so that the watcher thread can hand it an event through its loop.
final class SourceSupervisor: @unchecked Sendable {
    enum State {
        case up(since: Double)
        case down(String)

        var isUp: Bool {
            if case .up = self { return true }
            return false
        }

        var word: String { isUp ? "up" : "down" }
    }

    /// Reads from a socket source before the clients are flushed.
    private static let readsPerBurst: UInt = 16

    /// The hub owns this supervisor and outlives it.
    private unowned let hub: ConsoleHub
    private var loop: EventLoop { hub.loop }
    private var logger: Logger { hub.logger }
    private(set) var current: OpenSource?
    private(set) var state = State.down("not opened yet")
    private var backoff = SourceBackoff()
    private var reopenTimer: Scheduled<Void>?
    private var stopped = false
    /// Bytes written to the source and not yet taken (`ConsoleHub.deviceQueueLimit`).
    private(set) var queued = 0
    /// The device number a device console last opened: a path that now names another
    /// device is said in the log (`noteDevice`).
    private var openedDevice: UInt64?
    /// Whether a pty slave may be opened (another user's terminal may have its number).
    private var ptys = PtyAdmission()

    init(hub: ConsoleHub) {
        self.hub = hub
    }

    var reason: String {
        if case .down(let reason) = state { return reason }
        return "up"
    }

    /// Opens the console's source; on failure the console stays listed and retries.
    func open() {
        loop.preconditionInEventLoop()
        guard !stopped, current == nil else { return }
        reopenTimer = nil
        switch hub.config.source {
        case .device(let path):
            do {
                let (fd, origin) = try Device.open(path, admitting: ptys.refusal)
                ptys.opened(origin)
                noteDevice(fd, path)
                do {
                    try Termios.configureLine(fd, hub.line.settings)
                } catch {
                    try? fd.close()
                    throw error
                }
                adoptPipe(fd, child: nil)
            } catch {
                failed("cannot open \(path): \(error)")
            }
        case .exec(let argv, let rows, let cols):
            do {
                // A restart keeps the size the last client gave, not the configured one.
                let size = hub.line.windowSize ?? (rows, cols)
                let child = try Spawn.underPty(argv, environment: execEnvironment(), rows: size.rows, cols: size.cols)
                adoptPipe(child.master, child: child.pid)
            } catch {
                failed("cannot run \(argv.joined(separator: " ")): \(error)")
            }
        case .unix(let path):
            let hub = self.hub
            ClientBootstrap(group: loop)
                .channelOption(.allowRemoteHalfClosure, value: false)
                .channelOption(.maxMessagesPerRead, value: Self.readsPerBurst)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DeviceHandler(hub: hub))
                    }
                }
                .connect(unixDomainSocketPath: path)
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        self.opened(OpenSource(channel: channel, control: nil, child: nil))
                    case .failure(let error):
                        self.failed("cannot connect to \(path): \(error)")
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
            if let child { Spawn.signal(child, .kill) }
            failed("cannot duplicate the device descriptor: \(error)")
            return
        }
        let hub = self.hub
        NIOPipeBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DeviceHandler(hub: hub))
                }
            }
            .takingOwnershipOfDescriptors(input: input.rawValue, output: output.rawValue)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.opened(OpenSource(channel: channel, control: fd, child: child))
                case .failure(let error):
                    // Still ours to close when NIO refused them.
                    try? input.close()
                    try? output.close()
                    try? fd.close()
                    if let child { Spawn.terminate(child, grace: 0) }
                    self.failed("cannot watch the device: \(error)")
                }
            }
    }

    private func execEnvironment() -> [String] {
        [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=vt100",
            "RTTY_CONSOLE=\(hub.config.name)",
        ]
    }

    /// The source is open (also how tests hand the hub a channel of their own).
    func opened(_ opened: OpenSource) {
        loop.preconditionInEventLoop()
        if stopped {
            opened.channel.close(promise: nil)
            release(opened)
            return
        }
        current = opened
        stopWatching()
        let wasDown = state
        state = .up(since: WallClock.monotonicSeconds())
        logger.info("source open: \(hub.config.source.describe)")
        if case .down(let reason) = wasDown, reason != "not opened yet" {
            hub.sourceCameBack()
        }
    }

    /// Device.open refuses a path that no longer names a character device; one that names
    /// another tty (a USB adapter back as ttyUSB1) is opened, and said.
    private func noteDevice(_ fd: SystemPackage.FileDescriptor, _ path: String) {
        let now = Device.rdev(fd)
        if let before = openedDevice, let now, now != before {
            logger.warning("\(path) now names another device (0x\(String(now, radix: 16)), was 0x\(String(before, radix: 16))); opened, as it is a terminal")
            hub.log?.mark("\(path) is another device now")
        }
        openedDevice = now
    }

    private func failed(_ reason: String) {
        // Report a new problem loudly once; the same failure again on each retry quietly.
        if case .down(let previous) = state, previous == reason {
            logger.debug("\(reason); retrying")
        } else {
            logger.error("\(reason); retrying with back-off")
        }
        state = .down(reason)
        scheduleReopen(after: backoff.failed())
        watch()
    }

    private func scheduleReopen(after seconds: Double) {
        guard !stopped else { return }
        reopenTimer?.cancel()
        reopenTimer = loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            self.reopenTimer = nil
            self.open()
        }
    }

    /// The device went away: the hub tells everyone and keeps the clients; reopened later.
    func closed(_ channel: Channel, reason: String) {
        guard let open = current, open.channel === channel else { return }
        current = nil
        var why = reason
        if let child = open.child, let status = Spawn.reapSoon(child) {
            why = "command \(status)"
        }
        release(open)
        if case .up(let since) = state {
            backoff.wasUp(for: WallClock.monotonicSeconds() - since)
        }
        state = .down(why)
        hub.holdInput(false)
        guard !stopped else { return }
        hub.sourceLost(why)
        scheduleReopen(after: backoff.failed())
        watch()
    }

    /// Closes the source on purpose (a reconfiguration or the end): no loss is reported.
    func close() {
        guard let open = current else { return }
        current = nil
        open.channel.close(promise: nil)
        release(open)
        hub.holdInput(false)  // what held input back went with the channel
    }

    /// The console's source or line settings changed (a reload): closed, to be opened
    /// afresh without the old back-off.
    func restart() {
        close()
        backoff = SourceBackoff()
        ptys.reset()
        state = .down("reconfigured")
    }

    /// The console ends: no more reopening.
    func stop() {
        stopped = true
        reopenTimer?.cancel()
        reopenTimer = nil
        stopWatching()
        close()
    }

    /// Closes our descriptor and ends the command of an exec console off the event loop
    /// (a stubborn child may take a second to die).
    private func release(_ opened: OpenSource) {
        try? opened.control?.close()
        if let child = opened.child {
            Spawn.signal(child, .hangUp)
            if Spawn.reap(child) == nil {
                NIOThreadPool.singleton.submit { _ in Spawn.terminate(child, grace: 1.0) }
            }
        }
    }

    func writabilityChanged(_ writable: Bool) {
        hub.holdInput(!writable)
    }

    // MARK: input to the source

    /// Input for the source: false when it is down or its queue is full (the caller tells
    /// the client). Counted until the source took it.
    func write(_ bytes: [UInt8]) -> Bool {
        guard let current, queued + bytes.count <= ConsoleHub.deviceQueueLimit else { return false }
        queued += bytes.count
        let written = loop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in self.queued -= bytes.count }
        written.futureResult.whenSuccess { self.hub.metrics?.toDevice.increment(by: Int64(bytes.count)) }
        current.channel.writeAndFlush(current.channel.allocator.buffer(bytes: bytes), promise: written)
        return true
    }

    // MARK: watching for the source to appear (SourceWatcher.swift)

    /// The path whose appearance means the source can be opened (nil: exec consoles).
    private var appearingPath: String? {
        switch hub.config.source {
        case .unix(let socket): socket
        case .device(let device): device
        case .exec: nil
        }
    }

    /// Called when the source could not be opened or was lost.
    private func watch() {
        guard !stopped, let path = appearingPath else { return }
        if !SourceWatcher.shared.wait(for: path, by: self) {
            logger.debug("cannot watch for \(path) to appear; retrying on the back-off timer only")
        }
    }

    /// Also before a reload changes the source: the old path's watch.
    func stopWatching() {
        guard let path = appearingPath else { return }
        SourceWatcher.shared.stopWaiting(for: path, by: self)
    }

    /// The watched path appeared: open now, and retry quickly while it is not ready.
    func appeared() {
        loop.preconditionInEventLoop()
        guard current == nil, !stopped else { return }
        logger.debug("\(hub.config.source.describe) appeared; opening it")
        backoff.appeared()
        reopenTimer?.cancel()
        reopenTimer = nil
        open()
    }

    /// Where `SourceWatcher` hands an event: this console's loop.
    var eventLoop: EventLoop { loop }
}

