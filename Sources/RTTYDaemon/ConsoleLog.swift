import Logging
import NIOCore
import RTTYCore
import RTTYSystem
import SystemPackage

/// One console's log file: raw output, optional timestamps, markers, built-in size
/// rotation. A write error (full disk, unwritable directory) is reported once, the bytes
/// are held (up to `maxPending`) and written when the file works again; the console never
/// waits for it.
///
/// Two sides: `write`, `flush`, `mark` run on the console's event loop (the stamper and
/// the batch); the file itself (descriptor, size, held bytes, rotation) is touched only
/// by jobs on the `LogWriter` thread, in the order they were queued, after `init` opened it.
final class ConsoleLog: @unchecked Sendable {
    static let maxPending = 4 << 20
    static let retryInterval = 1.0
    static let maxBatch = 256 << 10
    private static let unstamped = Timestamp(seconds: 0, nanoseconds: 0)

    let path: String
    private let timestamps: Bool
    private let maxBytes: Int
    private let keep: Int
    private let logger: Logger
    private var fd: SystemPackage.FileDescriptor?
    private var stamper: LogStamper
    private var size = 0
    /// The file ends with a line end (or is empty): where rotation may cut at once.
    private var atLineStart = true
    private var pending: [UInt8] = []
    private var dropped = 0
    private var failing: String?
    private var lastAttempt = -Double.infinity
    /// Output of the current read burst.
    private var batch: [UInt8] = []
    private let pool = WriterBatch.Pool()
    private let loop: EventLoop
    private lazy var timer = BatchTimer(loop: loop) { [weak self] in self?.flush() }

    init(path: String, timestamps: Bool, maxBytes: Int, keep: Int, loop: EventLoop, logger: Logger) {
        self.path = path
        self.loop = loop
        self.timestamps = timestamps
        self.maxBytes = maxBytes
        self.keep = keep
        self.logger = logger
        self.stamper = LogStamper(timestamps: timestamps)
        // Opened here, on the loop, before any job can touch the file: the descriptor a
        // console holds for its log is there once it has started, not some time after
        // (a test counting rttyd's descriptors at start raced the writer). Moving it to the
        // writer did not make 1,000 consoles start measurably faster (0.3-0.4 s on tmpfs).
        open()
    }

    deinit { try? fd?.close() }

    /// Device output: the hot path. It joins the batch that `flush` hands to the log
    /// writer when the burst's end says (`BatchTimer`): one write(2) per batch, off the loop.
    func write(_ bytes: UnsafeRawBufferPointer) {
        // The clock only when stamping: without timestamps a read costs no clock_gettime.
        stamper.stamp(bytes, now: timestamps ? WallClock.now() : ConsoleLog.unstamped, into: &batch)
        if batch.count >= ConsoleLog.maxBatch { flush() }
    }

    func flush() {
        timer.cancel()
        guard !batch.isEmpty else { return }
        let box = pool.take()
        swap(&box.bytes, &batch)
        LogWriter.shared.submit(bytes: box.bytes.count) {
            box.bytes.withUnsafeBytes { self.emit($0) }
            self.pool.give(box)
        }
    }

    /// A marker line such as "[rtty: BREAK]", after what came before it.
    func mark(_ text: String) {
        batch += stamper.marker(text, now: WallClock.now())
        flush()
    }

    /// SIGHUP: an external rotator moved the file away; start a new one.
    func reopen() {
        flush()
        LogWriter.shared.submit {
            try? self.fd?.close()
            self.fd = nil
            self.open()
        }
    }

    /// Everything written so far reaches the file before this returns.
    func close() {
        flush()
        LogWriter.shared.submit {
            try? self.fd?.close()
            self.fd = nil
        }
        LogWriter.shared.drain()
    }

    private func open() {
        do {
            let opened = try SystemPackage.FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead])
            fd = opened
            size = Int((try? opened.seek(offset: 0, from: .end)) ?? 0)
            atLineStart = size == 0 || Self.lastByte(of: opened, size: size) == 10
            if pending.isEmpty { recovered() }
        } catch {
            failed("cannot open console log \(path): \(error)")
        }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) {
        if fd == nil || !pending.isEmpty {
            hold(bytes)
            retry()
            return
        }
        let written = append(bytes)
        if written < bytes.count { hold(UnsafeRawBufferPointer(rebasing: bytes[written...])) }
    }

    /// Writes `bytes` to the file, rotating where `LogSplit` says; returns how many bytes
    /// reached the file. A short write continues where it stopped; on an error the rest is
    /// the caller's to hold, so nothing is written twice.
    private func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        do {
            while offset < bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                let count = maxBytes > 0 ? LogSplit.take(rest, size: size, limit: maxBytes, atLineStart: atLineStart) : rest.count
                if count == 0 {
                    try rotate()
                    continue
                }
                guard let fd else { break }
                let end = offset + count
                while offset < end {
                    let n = try fd.write(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), retryOnInterrupt: true)
                    guard n > 0 else { throw Errno.ioError }
                    offset += n
                    size += n
                    atLineStart = bytes[offset - 1] == 10
                }
                if offset < bytes.count && maxBytes > 0 { try rotate() }
            }
        } catch {
            failed("cannot write console log \(path): \(error)")
        }
        return offset
    }

    private func hold(_ bytes: UnsafeRawBufferPointer) {
        let room = ConsoleLog.maxPending - pending.count
        pending.append(contentsOf: bytes.prefix(max(0, room)))
        dropped += max(0, bytes.count - room)
    }

    private func retry() {
        let now = WallClock.monotonicSeconds()
        guard now - lastAttempt >= ConsoleLog.retryInterval else { return }
        lastAttempt = now
        if fd == nil { open() }
        guard fd != nil else { return }
        let held = pending
        pending.removeAll()
        let written = held.withUnsafeBytes { append($0) }
        guard written == held.count else {
            pending = Array(held[written...])
            return
        }
        if dropped > 0 {
            // On its own line after what was held (a fresh stamper starts at a line start).
            let lead: [UInt8] = atLineStart ? [] : [UInt8(ascii: "\n")]
            var noteStamper = LogStamper(timestamps: timestamps)
            let note = lead + noteStamper.marker("\(dropped) bytes of output were not logged: \(failing ?? "log error")", now: WallClock.now())
            dropped = 0
            let noted = note.withUnsafeBytes { append($0) }
            if noted < note.count { pending = Array(note[noted...]) }
        }
        if pending.isEmpty { recovered() }
    }

    private func rotate() throws {
        try fd?.close()
        fd = nil
        LogRotation.shift(path: path, keep: keep)
        let opened = try SystemPackage.FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec],
            permissions: [.ownerReadWrite, .groupRead])
        fd = opened
        size = 0
        atLineStart = true
    }

    private static func lastByte(of fd: SystemPackage.FileDescriptor, size: Int) -> UInt8? {
        var byte: UInt8 = 0
        let n = try? withUnsafeMutableBytes(of: &byte) { try fd.read(fromAbsoluteOffset: Int64(size - 1), into: $0) }
        return n == 1 ? byte : nil
    }

    private func failed(_ message: String) {
        lastAttempt = WallClock.monotonicSeconds()
        if failing == nil {
            logger.error("\(message); holding output and retrying")
        }
        failing = message
    }

    private func recovered() {
        if let failing {
            logger.notice("console log \(path) works again after: \(failing)")
        }
        failing = nil
    }
}

/// The console log is one of the console's output sinks: a read joins the batch, which
/// goes to the writer as its `BatchTimer` says.
extension ConsoleLog: OutputSink {
    func append(_ burst: ByteBuffer) {
        burst.withUnsafeReadableBytes { write($0) }
        timer.read(burst.readableBytes)
    }

    func burstEnded() { timer.burstEnded(held: batch.count) }
}
