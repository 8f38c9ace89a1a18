import Logging
import RTTYCore
import RTTYSystem
import SystemPackage

/// One console's log file: raw output, optional timestamps, markers, built-in size
/// rotation. A write error (full disk, unwritable directory) is reported once, the bytes
/// are held (up to `maxPending`) and written when the file works again; the console never
/// waits for it.
final class ConsoleLog {
    static let maxPending = 4 << 20
    static let retryInterval = 1.0
    static let maxBatch = 256 << 10

    let path: String
    private let maxBytes: Int
    private let keep: Int
    private let logger: Logger
    private var fd: SystemPackage.FileDescriptor?
    private var stamper: LogStamper
    private var size = 0
    private var pending: [UInt8] = []
    private var dropped = 0
    private var failing: String?
    private var lastAttempt = -Double.infinity
    /// Output of the current read burst.
    private var batch: [UInt8] = []

    init(path: String, timestamps: Bool, maxBytes: Int, keep: Int, logger: Logger) {
        self.path = path
        self.maxBytes = maxBytes
        self.keep = keep
        self.logger = logger
        self.stamper = LogStamper(timestamps: timestamps)
        open()
    }

    deinit { try? fd?.close() }

    /// Device output: the hot path. It joins the batch that `flush` writes at the end of
    /// the device's read burst, so a burst costs one write(2) however many reads it took.
    func write(_ bytes: UnsafeRawBufferPointer) {
        stamper.stamp(bytes, now: WallClock.now(), into: &batch)
        if batch.count >= ConsoleLog.maxBatch { flush() }
    }

    func flush() {
        guard !batch.isEmpty else { return }
        batch.withUnsafeBytes { emit($0) }
        batch.removeAll(keepingCapacity: batch.capacity <= 2 * ConsoleLog.maxBatch)
    }

    /// A marker line such as "[rtty: BREAK]", after what came before it.
    func mark(_ text: String) {
        batch += stamper.marker(text, now: WallClock.now())
        flush()
    }

    /// SIGHUP: an external rotator moved the file away; start a new one.
    func reopen() {
        flush()
        try? fd?.close()
        fd = nil
        open()
    }

    func close() {
        flush()
        try? fd?.close()
        fd = nil
    }

    private func open() {
        do {
            let opened = try SystemPackage.FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead])
            fd = opened
            size = Int((try? opened.seek(offset: 0, from: .end)) ?? 0)
            recovered()
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
        do {
            try rotateIfNeeded(adding: bytes.count)
            _ = try fd!.writeAll(bytes)
            size += bytes.count
        } catch {
            hold(bytes)
            failed("cannot write console log \(path): \(error)")
        }
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
        guard let fd else { return }
        do {
            if dropped > 0 {
                let note = stamper.marker("\(dropped) bytes of output were not logged: \(failing ?? "log error")", now: WallClock.now())
                try pending.withUnsafeBytes { _ = try fd.writeAll($0) }
                try note.withUnsafeBytes { _ = try fd.writeAll($0) }
                size += pending.count + note.count
            } else {
                try pending.withUnsafeBytes { _ = try fd.writeAll($0) }
                size += pending.count
            }
            pending.removeAll()
            dropped = 0
            recovered()
        } catch {
            failed("cannot write console log \(path): \(error)")
        }
    }

    private func rotateIfNeeded(adding count: Int) throws {
        guard maxBytes > 0, size + count > maxBytes, size > 0 else { return }
        try fd?.close()
        fd = nil
        LogRotation.shift(path: path, keep: keep)
        let opened = try SystemPackage.FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec],
            permissions: [.ownerReadWrite, .groupRead])
        fd = opened
        size = 0
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
