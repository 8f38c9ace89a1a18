import NIOCore
import RTTYCore

/// Device output of the current burst in each wire form, framed once for all clients.
struct PendingOutput {
    private var forms: [ByteBuffer?] = Array(repeating: nil, count: WireForm.allCases.count)
    private(set) var bytes = 0

    var isEmpty: Bool { bytes == 0 }

    mutating func append(_ data: ByteBufferView, as form: WireForm) {
        var buffer = forms[form.rawValue] ?? ByteBufferAllocator().buffer(capacity: ConsoleHub.coalesceBytes + 4096)
        form.append(data, to: &buffer)
        forms[form.rawValue] = buffer
    }

    mutating func counted(_ count: Int) { bytes += count }

    subscript(form: WireForm) -> ByteBuffer? { forms[form.rawValue] }
}

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
}

extension ConsoleHub {
    static let ttyReadSize = 4095
    static let coalesceBytes = 64 << 10
    static let coalesceDelay = TimeAmount.milliseconds(1)

    /// The hot path: one read from the device goes to the replay ring, the log and the
    /// pending output of every wire form a client uses; `deviceOutputComplete` sends it.
    func deviceOutput(_ buffer: ByteBuffer) {
        // Replay must reach a new client before live output, and must not include this read.
        for client in clients where !client.replayDone {
            sendReplayIfDue(client)
        }
        buffer.withUnsafeReadableBytes { bytes in
            replay.append(bytes)
            log?.write(bytes)
        }
        if clients.contains(where: { $0.transcript != nil }) {
            let quoted = transcriptOutput.quote(buffer.readableBytesView)
            for client in clients { client.transcript?.output(quoted: quoted) }
            scheduleTranscriptFlush()
        }
        var framed: [Bool] = Array(repeating: false, count: WireForm.allCases.count)
        for client in clients where !client.closing && !framed[client.wireForm.rawValue] {
            framed[client.wireForm.rawValue] = true
            pending.append(buffer.readableBytesView, as: client.wireForm)
        }
        pending.counted(buffer.readableBytes)
        lastReadWasFull = buffer.readableBytes >= Self.ttyReadSize
    }

    /// After the device's reads of one wake-up. A tty hands out at most 4095 bytes per
    /// read (N_TTY_BUF_SIZE - 1) and wakes us once per read, so during a firehose sending
    /// here would cost every client one write per 4 KiB. While reads come back full, more
    /// is waiting: output is held (up to `coalesceBytes`, at most `coalesceDelay`) and goes
    /// out in one write per client. A short read (a keystroke's echo, a prompt) sends at
    /// once, so typing never waits.
    func deviceOutputComplete() {
        if lastReadWasFull && pending.bytes < Self.coalesceBytes {
            if outputFlush == nil {
                outputFlush = loop.scheduleTask(in: Self.coalesceDelay) {
                    self.outputFlush = nil
                    self.flushOutput()
                }
            }
            return
        }
        flushOutput()
    }

    /// Sends the pending output. Called before anything else goes to clients (replay,
    /// notices), so they see events in the order they happened.
    func flushOutput() {
        outputFlush?.cancel()
        outputFlush = nil
        log?.flush()
        guard !pending.isEmpty else { return }
        let out = pending
        pending = PendingOutput()
        for client in clients where client.replayDone && !client.closing {
            if let buffer = out[client.wireForm] { client.send(buffer) }
        }
    }
}
