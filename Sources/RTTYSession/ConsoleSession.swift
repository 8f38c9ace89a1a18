import RTTYCore
import RTTYSystem
import SystemPackage

/// What a script-like client asks of a session (`rttyctl send`/`expect`, `rtty --broadcast`,
/// `rtty mcp`).
public struct SessionOptions: Sendable {
    public var socketPath: String
    public var readOnly = false
    /// Receive the console's recent output first (an attach's replay); off, only output
    /// that arrives after the session started.
    public var replay = false
    /// METADATA claims for the audit record (AGENT for the agent server).
    public var metadata: [String: String] = [:]
    /// The tty part of WHOSON: the daemon shows `<verified user>@<this>`.
    public var label = "script"
    public var client = AttachClient.rtty
    /// Output kept for reading back by offset.
    public var windowBytes = 1 << 20

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    public var console: String { socketPath.split(separator: "/").last.map(String.init) ?? socketPath }
}

/// One ordinary client session on a console socket, opened as the user who runs the
/// program: the daemon checks that uid's rights from the socket's peer credentials and
/// audits the session as any other. Blocking, driven by `poll`, for programs that do one
/// thing at a time; the interactive client is `Attachment`.
public final class ConsoleSession {
    public enum Event: Equatable, Sendable {
        case output([UInt8])
        case notice(String)
        /// A refusal (ERROR frame): input on a read-only session, a write lock held...
        case refused(String)
        case settingsAnswer(String)
        case closed
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public let status: ExitStatus
    }

    public let options: SessionOptions
    public let descriptor: FileDescriptor
    public private(set) var rights = "rw"
    public private(set) var deviceState = "?"
    public private(set) var output: OutputWindow
    public private(set) var isClosed = false
    /// The daemon's last notice, if the session ended with one that says why.
    public private(set) var closingNotice: String?
    private var parser = FrameParser(direction: .toClient, maxPayload: Frame.extendedMaxPayload)
    private var helloSeen = false

    public var console: String { options.console }
    public var mayWrite: Bool { rights == "rw" }

    /// Connects and waits for the daemon's HELLO answer (the session is then on record).
    public init(_ options: SessionOptions, timeoutMilliseconds: Int = 10_000) throws(Failure) {
        self.options = options
        self.output = OutputWindow(capacity: options.windowBytes)
        // A daemon that closes on us makes a write fail with EPIPE, read as a closing.
        Signals.ignoreBrokenPipe()
        switch SocketProblem.connect(path: options.socketPath) {
        case .success(let fd): descriptor = fd
        case .failure(let problem):
            let failure = ConnectFailure(problem, path: options.socketPath, console: options.console, client: options.client)
            throw Failure(description: failure.message, status: failure.status)
        }
        var hello = RTTYVersion.protocolName
        if options.readOnly { hello += " ro" }
        if !options.replay { hello += " noreplay" }
        var frames = [Frame.withText(.hello, hello)]
        if !options.metadata.isEmpty {
            frames.append(.withText(.metadata, options.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")))
        }
        frames.append(.withText(.whosOn, "\(Accounts.currentUserName())@\(options.label)"))
        do {
            try write(frames.flatMap { $0.encoded() })
        } catch {
            // rttyd refuses at once (access denied, too many clients) and closes: a write
            // after that fails (EPIPE), and its reason is still there to be read.
            while !isClosed, !pump(timeoutMilliseconds: 1000).isEmpty {}
            guard let why = closingNotice else { throw error }
            throw fail(why, ClosingNotice.exitStatus(after: why) ?? .consoleClosed)
        }
        var answered = false
        let deadline = Self.nowMilliseconds() + timeoutMilliseconds
        while !answered && !isClosed {
            let left = deadline - Self.nowMilliseconds()
            guard left > 0 else { throw fail("rttyd did not answer within \(timeoutMilliseconds / 1000) s", .error) }
            _ = pump(timeoutMilliseconds: left)
            answered = helloSeen
        }
        guard answered else {
            let why = closingNotice ?? "the connection closed before rttyd answered"
            throw fail(why, closingNotice.flatMap(ClosingNotice.exitStatus(after:)) ?? .consoleClosed)
        }
    }

    static func nowMilliseconds() -> Int { Int(WallClock.monotonicSeconds() * 1000) }

    deinit { if !isClosed { try? descriptor.close() } }

    private func fail(_ why: String, _ status: ExitStatus) -> Failure {
        Failure(description: "\(options.client.name): console \(options.console): \(why)", status: status)
    }

    // MARK: reading

    /// Waits up to `timeoutMilliseconds` for the daemon, then reads what is there.
    public func pump(timeoutMilliseconds: Int) -> [Event] {
        guard !isClosed else { return [] }
        guard Poll.readable(descriptor, timeoutMilliseconds: max(0, timeoutMilliseconds)) else { return [] }
        return receive()
    }

    /// One read of what the daemon sent (the descriptor is readable), as events.
    public func receive() -> [Event] {
        guard !isClosed else { return [] }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = (try? chunk.withUnsafeMutableBytes { try descriptor.read(into: $0) }) ?? 0
        guard n > 0 else { return [closeNow()] }
        parser.append(chunk.prefix(n))
        var events: [Event] = []
        do {
            while let frame = try parser.next() {
                if let event = take(frame) { events.append(event) }
            }
        } catch {
            closingNotice = "bad frame from rttyd: \(error)"
            events.append(closeNow())
        }
        return events
    }

    private func take(_ frame: Frame) -> Event? {
        closingNotice = frame.kind == .notice && ClosingNotice.exitStatus(after: frame.text) != nil ? frame.text : nil
        switch frame.kind {
        case .data:
            output.append(frame.payload)
            return .output(frame.payload)
        case .hello:
            let reply = HelloReply(frame.text)
            rights = reply["rights"] ?? rights
            deviceState = reply["state"] ?? deviceState
            helloSeen = true
            return nil
        case .notice:
            return frame.text == "authorized" ? nil : .notice(frame.text)
        case .error:
            return .refused(frame.text)
        case .result where frame.text.hasPrefix("error"):
            return .refused(frame.text)
        case .settings where frame.query:
            return .settingsAnswer(frame.text)
        default:
            return nil
        }
    }

    private func closeNow() -> Event {
        isClosed = true
        try? descriptor.close()
        return .closed
    }

    public enum WaitOutcome: Equatable, Sendable {
        case matched(String)
        case timedOut
        case closed
    }

    /// Feeds the output from `offset` on to `matcher` until it matches, `timeout` seconds
    /// pass or the session ends; `offset` ends past the output read. `idle` waits for more
    /// output for at most the milliseconds it is given (default: this session's own; the
    /// agent server reads its other sessions meanwhile too).
    public func wait(
        for matcher: inout OutputMatcher, from offset: inout Int, timeout: Double, idle: ((Int) -> Void)? = nil
    ) -> WaitOutcome {
        let deadline = WallClock.monotonicSeconds() + timeout
        while true {
            let slice = output.read(from: offset, limit: output.capacity)
            offset = slice.next
            if let matched = matcher.feed(slice.bytes) { return .matched(matched) }
            if isClosed { return .closed }
            let left = deadline - WallClock.monotonicSeconds()
            guard left > 0 else { return .timedOut }
            let milliseconds = min(Int(left * 1000) + 1, 1000)
            if let idle { idle(milliseconds) } else { _ = pump(timeoutMilliseconds: milliseconds) }
        }
    }

    // MARK: writing

    public func send(_ bytes: [UInt8]) throws(Failure) {
        try write(Self.dataFrames(bytes))
    }

    public func sendBreak() throws(Failure) {
        try write(Frame(.breakSignal).encoded())
    }

    private static func dataFrames(_ bytes: [UInt8]) -> [UInt8] {
        var frames: [UInt8] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + Frame.extendedMaxPayload, bytes.count)
            frames += Frame.withPayload(.data, Array(bytes[start..<end])).encoded()
            start = end
        }
        return frames
    }

    // MARK: writing without waiting (one program feeding many sessions: rtty --broadcast)

    /// Input queued (`queue`, `queueBreak`) that the socket has not taken yet.
    public private(set) var unsent: [UInt8] = []

    public func queue(_ bytes: [UInt8]) { unsent += Self.dataFrames(bytes) }

    public func queueBreak() { unsent += Frame(.breakSignal).encoded() }

    /// Sends as much of the queued input as the socket takes now; returns how much. A
    /// console whose device takes no input makes rttyd stop reading, and then this 0.
    @discardableResult
    public func sendQueued() throws(Failure) -> Int {
        guard !unsent.isEmpty else { return 0 }
        guard !isClosed else { throw fail(closingNotice ?? "the session is closed", .consoleClosed) }
        let taken: Int
        do {
            taken = try unsent.withUnsafeBytes { bytes throws(SystemError) in try UnixSocket.sendAvailable(descriptor, bytes) }
        } catch {
            throw fail("cannot write to rttyd: \(error)", .error)
        }
        unsent.removeFirst(taken)
        return taken
    }

    /// Waits until rttyd has taken every frame sent so far: it answers frames in order, so
    /// the answer to a settings query comes after the input before it went to the device
    /// (or was refused). Returns the refusals and notices seen meanwhile; output received
    /// is kept in `output`.
    public func settle(timeoutMilliseconds: Int = 10_000) throws(Failure) -> [Event] {
        unsent += Frame.withText(.settings, query: true, "").encoded()
        var seen: [Event] = []
        let deadline = Self.nowMilliseconds() + timeoutMilliseconds
        while true {
            let left = deadline - Self.nowMilliseconds()
            guard left > 0 else { throw fail("rttyd did not take the input within \(timeoutMilliseconds / 1000) s (the device stopped taking input?)", .error) }
            guard !isClosed else { throw fail(closingNotice ?? "rttyd closed the session", closingNotice.flatMap(ClosingNotice.exitStatus(after:)) ?? .consoleClosed) }
            // The queue goes out as the socket takes it, read meanwhile: rttyd may be
            // waiting for us to read before it reads on.
            try sendQueued()
            let ready = Poll.wait([(descriptor, !unsent.isEmpty)], timeoutMilliseconds: left)[0]
            guard ready.readable else { continue }
            for event in receive() {
                switch event {
                case .settingsAnswer: return seen
                case .closed: throw fail(closingNotice ?? "rttyd closed the session", closingNotice.flatMap(ClosingNotice.exitStatus(after:)) ?? .consoleClosed)
                case .output: break
                default: seen.append(event)
                }
            }
        }
    }

    private func write(_ bytes: [UInt8]) throws(Failure) {
        guard !isClosed else { throw fail(closingNotice ?? "the session is closed", .consoleClosed) }
        do {
            _ = try bytes.withUnsafeBytes { try descriptor.writeAll($0) }
        } catch {
            throw fail("cannot write to rttyd: \(error)", .error)
        }
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        try? descriptor.close()
    }
}
