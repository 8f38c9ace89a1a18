import NIOCore
import RTTYCore

/// How console bytes look on a client's wire.
enum WireForm: Int, CaseIterable {
    case classic, extended, raw, telnet

    func append(_ data: ByteBufferView, to buffer: inout ByteBuffer) {
        switch self {
        case .classic: FrameWriter.appendData(data, maxPayload: Frame.classicMaxPayload, to: &buffer)
        case .extended: FrameWriter.appendData(data, maxPayload: Frame.extendedMaxPayload, to: &buffer)
        case .raw: buffer.writeBytes(data)
        case .telnet: buffer.writeBytes(Telnet.escape(data))
        }
    }

    /// Unix-socket clients speak the framed protocol; TCP clients get console bytes only.
    var carriesFrames: Bool { self == .classic || self == .extended }
}

/// The replay ring as an output sink: every read goes in at once, so a client that
/// attaches gets everything up to the moment it joins.
final class ReplaySink: OutputSink {
    var ring: ReplayRing

    init(capacity: Int) { ring = ReplayRing(capacity: capacity) }

    func append(_ burst: ByteBuffer) {
        burst.withUnsafeReadableBytes { ring.append($0) }
    }

    func burstEnded() {}
}

/// The clients of one wire form, an output sink: device output is framed once in that
/// form for all of them and held until the reads of a wake-up end. A tty hands out at
/// most 4095 bytes per read (N_TTY_BUF_SIZE - 1) and wakes us once per read, so during a
/// firehose sending at every wake-up would cost every client one write per 4 KiB. While
/// reads come back full, more is waiting: output is held (up to `coalesceBytes`, at most
/// `coalesceDelay`) and goes out in one write per client. A short read (a keystroke's
/// echo, a prompt) goes out at once, so typing never waits.
///
/// Anything else for these clients that must come after the output they were sent (a
/// notice, an extension frame) goes through `deliver`, which sends this sink's own pending
/// output first; no other sink is flushed by it. Confined to the hub's loop; Sendable only
/// so its timer's closure may hold it.
final class ClientOutput: OutputSink, @unchecked Sendable {
    static let coalesceBytes = 64 << 10
    static let coalesceDelay = TimeAmount.milliseconds(1)

    let form: WireForm
    private unowned let hub: ConsoleHub
    /// Whether a client of this form takes live output (`ConsoleHub.outputMembersChanged`):
    /// with none, a read costs this sink nothing.
    var inUse = false
    private var pending: ByteBuffer
    /// The buffer of the last send, emptied, for the next one.
    private var spare: ByteBuffer?
    private var lastReadWasFull = false
    private var timer: Scheduled<Void>?

    init(form: WireForm, hub: ConsoleHub) {
        self.form = form
        self.hub = hub
        pending = ByteBufferAllocator().buffer(capacity: 0)
    }

    func append(_ burst: ByteBuffer) {
        guard inUse else { return }
        if pending.capacity == 0 { pending.reserveCapacity(Self.coalesceBytes + 4096) }
        form.append(burst.readableBytesView, to: &pending)
        lastReadWasFull = burst.readableBytes >= ConsoleHub.ttyReadSize
        // A fast socket source delivers many large reads per wake-up: send in slices of
        // about `coalesceBytes` rather than growing one big buffer (copies, page faults).
        if pending.readableBytes >= Self.coalesceBytes { flush() }
    }

    func burstEnded() {
        guard pending.readableBytes > 0 else { return }
        guard lastReadWasFull else { return flush() }
        if timer == nil {
            timer = hub.loop.scheduleTask(in: Self.coalesceDelay) { [self] in
                timer = nil
                flush()
            }
        }
    }

    /// Sends the pending output to every client of this form that takes live output.
    func flush() {
        timer?.cancel()
        timer = nil
        guard pending.readableBytes > 0 else { return }
        // Swapped out first: a send can end a client and come back here with a notice.
        var out = pending
        pending = spare ?? ByteBufferAllocator().buffer(capacity: Self.coalesceBytes + 4096)
        spare = nil
        for client in hub.clients where client.replayDone && !client.closing && client.wireForm == form {
            client.send(output: out)
        }
        // Kept for reuse: once the clients' writes are done nothing else holds it.
        out.clear()
        spare = out
    }

    /// `body` for each client of this form, after the output already pending for them.
    func deliver(_ body: (ClientSession) -> Void) {
        flush()
        for client in hub.clients where client.wireForm == form { body(client) }
    }
}

extension ConsoleHub {
    static let ttyReadSize = 4095

    /// The one output path: each read from the device goes to every sink, and the end of
    /// the device's reads of one wake-up (`channelReadComplete`) is told to every sink.
    func deviceOutput(_ buffer: ByteBuffer) {
        for sink in outputSinks { sink.append(buffer) }
    }

    func deviceOutputComplete() {
        for sink in outputSinks { sink.burstEnded() }
    }

    /// Every consumer of this console's output, in the order each read reaches them.
    /// Registering a sink is one line here; call again when one is replaced (a reload
    /// reopens the log or the recorder, rebuilds the triggers, turns metrics on or off).
    /// The client sinks come first: at a burst's end an echo goes out before the log, the
    /// recorder and the triggers hand their batches to their threads (a wake-up each).
    func sinksChanged() {
        var sinks: [OutputSink] = clientOutputs
        sinks.append(replaySink)
        if let log { sinks.append(log) }
        if let recorder { sinks.append(recorder) }
        if let triggers { sinks.append(triggers) }
        if let metrics { sinks.append(metrics) }
        outputSinks = sinks
    }

    func clientOutput(_ form: WireForm) -> ClientOutput { clientOutputs[form.rawValue] }

    /// A client began or stopped taking live output, or changed its wire form: each
    /// client sink learns whether any client of its form is left.
    func outputMembersChanged() {
        var forms = 0
        for client in clients where client.replayDone && !client.closing { forms |= 1 << client.wireForm.rawValue }
        for sink in clientOutputs { sink.inUse = forms & (1 << sink.form.rawValue) != 0 }
    }

    var replay: ReplayRing { replaySink.ring }

    /// Opens the console's recording if `transcript` is on (closing the one before).
    func openRecorder() {
        recorder?.close()
        recorder = nil
        if config.transcript {
            recorder = Recorder(sessionDir: paths.sessionDir, console: config.name, keepBytes: config.recordKeepBytes, loop: loop, logger: logger)
        }
        sinksChanged()
    }
}
