import Logging
import NIOCore
import RTTYCore
import RTTYSystem
import SystemPackage

/// The console's recording, an output sink: each burst of device output becomes one
/// record (its time, its offset, its bytes), collected on the loop and written by the
/// `LogWriter` thread when its `BatchTimer` says. Recorded once for every session of the console:
/// a session keeps only its input and the span it saw (`SessionRecording`).
/// Confined to the console's loop (the writer's jobs capture only `files` and the pool);
/// Sendable only so its timer's closure may hold it.
final class Recorder: OutputSink, @unchecked Sendable {
    let files: RecordingFiles
    private let loop: EventLoop
    private let pool = WriterBatch.Pool()
    /// Offset of the next output byte; on the loop.
    private(set) var offset: UInt64
    /// Where this daemon's run of the recording began: a session without an end record
    /// that began before it was cut by the daemon's death there.
    let runStart: UInt64
    private var batch: [UInt8] = []
    private var batchOffset: UInt64 = 0
    /// Where the head of the burst being collected is in `batch`.
    private var openHead: Int?
    private lazy var timer = BatchTimer(loop: loop) { [weak self] in self?.submit() }

    init(sessionDir: String, console: String, keepBytes: Int, loop: EventLoop, logger: Logger) {
        files = RecordingFiles(sessionDir: sessionDir, console: console, keepBytes: keepBytes, logger: logger)
        self.loop = loop
        offset = files.startOffset()
        runStart = offset
        // The segment is open from the start, so the descriptor a console holds for its
        // recording does not appear with its first output.
        let (files, first) = (files, offset)
        LogWriter.shared.submit { files.begin(at: first) }
    }

    func append(_ burst: ByteBuffer) {
        if openHead == nil {
            if batch.isEmpty { batchOffset = offset }
            openHead = batch.count
            Recording.appendHead(kind: .output, time: Recording.micros(WallClock.now()), offset: offset, length: 0, to: &batch)
        }
        batch.append(contentsOf: burst.readableBytesView)
        offset += UInt64(burst.readableBytes)
        timer.read(burst.readableBytes)
    }

    func burstEnded() {
        guard let head = openHead else { return }
        openHead = nil
        Recording.patchLength(batch.count - head - Recording.headSize, headAt: head, in: &batch)
        timer.burstEnded(held: batch.count)
    }

    private func submit() {
        timer.cancel()
        guard !batch.isEmpty, openHead == nil else { return }
        let box = pool.take()
        swap(&box.bytes, &batch)
        let (files, pool, first) = (files, pool, batchOffset)
        LogWriter.shared.submit(bytes: box.bytes.count) {
            box.bytes.withUnsafeBytes { files.write($0, offset: first) }
            pool.give(box)
        }
    }

    /// Everything recorded so far reaches the file (a session ends, the console stops).
    func flush() {
        if openHead != nil { burstEnded() }
        submit()
    }

    func close() {
        flush()
        let files = files
        LogWriter.shared.submit { files.close() }
    }
}

/// One session's part of the recording: `<session_dir>/<session>.session`, written by the
/// `LogWriter` thread in the order of the events: its header (made with its start record,
/// before its first input), its input from the first byte with the output position it was
/// typed at, where its view of the output began, and where it ended. Input is held to
/// `inputLimit` bytes (a 100 MB paste would otherwise make a 100 MB file): past it one
/// record says so and the rest is not recorded. A session that typed nothing leaves no
/// file: all it saw is in the console's recording.
///
/// An event after a quiet spell is handed to the writer at once (a keystroke is on disk
/// within moments, even if rttyd is killed next); events within `BatchTimer.delay` of it
/// go together at the window's end, or per `BatchTimer.batchBytes`: a client flooding
/// input costs the writer a job per 20 ms, not one per frame. On the console's loop only;
/// Sendable only so its timer's closure may hold it.
final class SessionRecording: @unchecked Sendable {
    enum Outcome: Equatable {
        case kept
        case inputCut
        case removedNoInput
    }

    let path: String
    private let inputLimit: Int
    private let writer: Writer
    private var inputBytes = 0
    private var cut = false
    private let loop: EventLoop
    /// Events not yet handed to the writer, and the window in which they are held.
    private var pending: [UInt8] = []
    private var window: Scheduled<Void>?

    /// The file side, on the writer thread only. The file is opened for each write and
    /// closed again: a session's events are few (typing), and a live session then holds
    /// no descriptor (a thousand sessions would hold a thousand).
    private final class Writer: @unchecked Sendable {
        let path: String
        let logger: Logger
        let files: RecordingFiles
        var working = false

        init(path: String, files: RecordingFiles, logger: Logger) {
            self.path = path
            self.files = files
            self.logger = logger
        }

        func write(_ bytes: [UInt8]) {
            guard working else { return }
            do {
                let fd = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.append, .noFollow, .closeOnExec])
                defer { try? fd.close() }
                _ = try bytes.withUnsafeBytes { try fd.writeAll($0) }
            } catch {
                logger.error("the recording of session \(path) stopped: \(error); the session goes on without it")
                working = false
            }
        }
    }

    init(sessionDir: String, header: Recording.Header, offset: UInt64, inputLimit: Int, files: RecordingFiles, loop: EventLoop, logger: Logger) {
        path = RecordingPaths.session(sessionDir, id: header.session)
        self.inputLimit = inputLimit
        self.loop = loop
        let writer = Writer(path: path, files: files, logger: logger)
        self.writer = writer
        let first = Recording.encode(Recording.Record(kind: .header, time: Self.now, offset: offset, payload: header.payload))
        LogWriter.shared.submit {
            files.live.insert(writer.path)
            do {
                try Files.makeDirectory(sessionDir, mode: 0o700)
                try RecordingPaths.create(writer.path).close()
                writer.working = true
            } catch {
                logger.error("no recording for session \(header.session): cannot create \(writer.path): \(error)")
                return
            }
            writer.write(first)
        }
    }

    private static var now: Int64 { Recording.micros(WallClock.now()) }

    private func record(_ kind: Recording.Kind, offset: UInt64, _ payload: [UInt8] = []) {
        Recording.appendHead(kind: kind, time: Self.now, offset: offset, length: payload.count, to: &pending)
        pending += payload
        if window == nil {
            submit()
            window = loop.scheduleTask(in: BatchTimer.delay) { [self] in
                window = nil
                submit()
            }
        } else if pending.count >= BatchTimer.batchBytes {
            submit()
        }
    }

    private func submit() {
        guard !pending.isEmpty else { return }
        let (writer, bytes) = (writer, pending)
        pending = []
        LogWriter.shared.submit(bytes: bytes.count) { writer.write(bytes) }
    }

    /// What the session typed, at output position `offset`.
    func input(_ bytes: [UInt8], offset: UInt64) {
        guard !cut else { return }
        guard inputBytes + bytes.count <= inputLimit else {
            cut = true
            record(.inputCut, offset: offset, Array("input cut at \(inputBytes) bytes (1/32 of record_keep_bytes); later input is not recorded".utf8))
            return
        }
        inputBytes += bytes.count
        record(.input, offset: offset, bytes)
    }

    /// The session sees the output from `offset` on (its replay began there).
    func view(from offset: UInt64) { record(.view, offset: offset) }

    /// The session's end at output position `offset`.
    func finish(at offset: UInt64) -> Outcome {
        record(.end, offset: offset)
        window?.cancel()
        window = nil
        submit()
        let (writer, typed) = (writer, inputBytes > 0 || cut)
        LogWriter.shared.submit {
            writer.working = false
            writer.files.live.remove(writer.path)
            if !typed { Files.removeFile(writer.path) }
        }
        return !typed ? .removedNoInput : cut ? .inputCut : .kept
    }
}
