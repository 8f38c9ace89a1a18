import NIOCore
import RTTYCore

/// Device output of the current burst in each wire form, framed once for all clients.
struct PendingOutput {
    private var forms: [ByteBuffer?] = Array(repeating: nil, count: WireForm.allCases.count)
    private(set) var bytes = 0

    var isEmpty: Bool { bytes == 0 }

    mutating func append(_ data: ByteBufferView, as form: WireForm) {
        if forms[form.rawValue] == nil {
            forms[form.rawValue] = ByteBufferAllocator().buffer(capacity: ConsoleHub.coalesceBytes + 4096)
        }
        // In place: a copy taken out of the array would be copied again on write.
        form.append(data, to: &forms[form.rawValue]!)
    }

    mutating func counted(_ count: Int) { bytes += count }

    /// Empties the buffers but keeps their memory (once nothing else holds them), so a
    /// firehose reuses the same warm buffers instead of allocating one per flush.
    mutating func clear() {
        for index in forms.indices { forms[index]?.clear() }
        bytes = 0
    }

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

    /// Unix-socket clients speak the framed protocol; TCP clients get console bytes only.
    var carriesFrames: Bool { self == .classic || self == .extended }
}

extension ConsoleHub {
    static let ttyReadSize = 4095
    static let coalesceBytes = 64 << 10
    static let coalesceDelay = TimeAmount.milliseconds(1)

    /// The hot path: one read from the device goes to the replay ring, the log and the
    /// pending output of every wire form a client uses; `deviceOutputComplete` sends it.
    func deviceOutput(_ buffer: ByteBuffer) {
        // Replay must reach a new client before live output, and must not include this read.
        // A client whose session is not on record yet (it has sent nothing so far, maybe
        // a probe about to say so) gets it at its first frame or the grace's end instead.
        for client in clients where !client.replayDone && client.isOnRecord {
            sendReplayIfDue(client)
        }
        metrics?.append(buffer)
        buffer.withUnsafeReadableBytes { bytes in
            replay.append(bytes)
            log?.write(bytes)
        }
        triggers?.append(buffer)
        if clients.contains(where: { $0.transcript != nil }) {
            let quoted = transcriptOutput.quote(buffer.readableBytesView)
            for client in clients { client.transcript?.output(quoted: quoted) }
            scheduleTranscriptFlush()
        }
        var framed = 0  // a bit per wire form already appended for this read
        for client in clients where !client.closing && framed & (1 << client.wireForm.rawValue) == 0 {
            framed |= 1 << client.wireForm.rawValue
            pending.append(buffer.readableBytesView, as: client.wireForm)
        }
        pending.counted(buffer.readableBytes)
        lastReadWasFull = buffer.readableBytes >= Self.ttyReadSize
        // A fast socket source delivers many large reads per wake-up: send in slices of
        // about `coalesceBytes` rather than growing one big buffer (copies, page faults).
        if pending.bytes >= Self.coalesceBytes { flushOutput() }
    }

    /// After the device's reads of one wake-up. A tty hands out at most 4095 bytes per
    /// read (N_TTY_BUF_SIZE - 1) and wakes us once per read, so during a firehose sending
    /// here would cost every client one write per 4 KiB. While reads come back full, more
    /// is waiting: output is held (up to `coalesceBytes`, at most `coalesceDelay`) and goes
    /// out in one write per client. A short read (a keystroke's echo, a prompt) sends at
    /// once, so typing never waits.
    func deviceOutputComplete() {
        metrics?.burstEnded()
        triggers?.burstEnded()
        if lastReadWasFull && !pending.isEmpty {
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
        // Swapped out first: a send can end a client and come back here with a notice.
        var out = pending
        pending = spareOutput ?? PendingOutput()
        spareOutput = nil
        for client in clients where client.replayDone && !client.closing {
            client.send(out)
        }
        out.clear()
        spareOutput = out
    }
}
