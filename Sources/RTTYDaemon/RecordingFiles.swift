import Logging
import RTTYCore
import RTTYSystem
import SystemPackage

/// Where a console's recording lives (docs/RECORDING.md): `<session_dir>/<console>.recording/`
/// holds its output in segment files named by the offset of their first byte (20 digits,
/// so names sort as offsets do); `<session_dir>/<session>.session` holds one session.
/// Everything is root-only: 0600 files in 0700 directories.
enum RecordingPaths {
    static func directory(_ sessionDir: String, console: String) -> String { sessionDir + "/" + console + ".recording" }
    static func session(_ sessionDir: String, id: String) -> String { sessionDir + "/" + id + ".session" }

    static func segmentName(_ offset: UInt64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".rec"
    }

    /// The segments of a console's recording, oldest first: (first offset, name, size, mtime).
    static func segments(in directory: String) -> [(offset: UInt64, entry: Files.Entry)] {
        let files = (try? Files.files(in: directory)) ?? []
        return files.compactMap { entry in
            guard entry.name.hasSuffix(".rec"), let offset = UInt64(entry.name.dropLast(4)) else { return nil }
            return (offset, entry)
        }.sorted { $0.offset < $1.offset }
    }

    /// Opens a new file of the recording for appending, beginning with the magic.
    static func create(_ path: String) throws -> SystemPackage.FileDescriptor {
        let fd = try FileDescriptor.open(
            FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .append, .closeOnExec], permissions: [.ownerReadWrite])
        do {
            _ = try Recording.magic.withUnsafeBytes { try fd.writeAll($0) }
        } catch {
            try? fd.close()
            throw error
        }
        return fd
    }
}

/// The file side of one console's recording, touched only by jobs on the `LogWriter`
/// thread, in order: the current segment, its rotation at `segmentBytes`, and retention
/// (`record_keep_bytes`: the oldest segments go first, and with them the session files that
/// ended before the newest removed segment did). A write error is reported once; the bytes
/// are dropped (the console log still has them) and the next write starts a new segment
/// after a second, so a record cut short is never followed by more in the same file.
final class RecordingFiles: @unchecked Sendable {
    let directory: String
    private let sessionDir: String
    private let console: String
    private var keepBytes: Int
    private var segmentBytes: Int
    private let logger: Logger
    private var fd: SystemPackage.FileDescriptor?
    private var size = 0
    private var total = 0
    private var failing: String?
    private var lastAttempt = -Double.infinity
    /// Session files still being written: never removed, whatever their age.
    var live: Set<String> = []

    /// Lists what is there; returns the offset the new run starts at: past everything
    /// recorded before (a file's size bounds the output it holds, so offsets stay unique).
    init(sessionDir: String, console: String, keepBytes: Int, logger: Logger) {
        self.sessionDir = sessionDir
        self.console = console
        directory = RecordingPaths.directory(sessionDir, console: console)
        self.keepBytes = keepBytes
        segmentBytes = Self.segmentBytes(keepBytes)
        self.logger = logger
    }

    private static func segmentBytes(_ keep: Int) -> Int { max(64 << 10, min(keep / 8, 64 << 20)) }

    /// A reload changed `record_keep_bytes`: the same files, a new bound.
    func keep(_ bytes: Int) {
        keepBytes = bytes
        segmentBytes = Self.segmentBytes(bytes)
        prune()
    }

    /// Called once on the loop before any job: where this run's offsets begin.
    func startOffset() -> UInt64 {
        let segments = RecordingPaths.segments(in: directory)
        total = segments.reduce(0) { $0 + $1.entry.size }
        return segments.map { $0.offset + UInt64($0.entry.size) }.max() ?? 0
    }

    /// A batch of whole output records; `offset` is the first one's.
    func write(_ bytes: UnsafeRawBufferPointer, offset: UInt64) {
        if fd == nil || size >= segmentBytes {
            guard openSegment(at: offset) else { return }
        }
        do {
            _ = try fd?.writeAll(bytes)
            size += bytes.count
            total += bytes.count
        } catch {
            failed("cannot write the recording in \(directory): \(error)")
            try? fd?.close()
            fd = nil
        }
    }

    func begin(at offset: UInt64) {
        if fd == nil { _ = openSegment(at: offset) }
    }

    func close() {
        try? fd?.close()
        fd = nil
    }

    private func openSegment(at offset: UInt64) -> Bool {
        try? fd?.close()
        fd = nil
        let now = WallClock.monotonicSeconds()
        guard failing == nil || now - lastAttempt >= 1 else { return false }
        lastAttempt = now
        do {
            try Files.makeDirectory(sessionDir, mode: 0o700)
            try Files.makeDirectory(directory, mode: 0o700)
            fd = try RecordingPaths.create(directory + "/" + RecordingPaths.segmentName(offset))
            size = Recording.magic.count
            total += size
        } catch {
            failed("cannot create a recording segment in \(directory): \(error)")
            return false
        }
        if let failing {
            logger.notice("the recording of \(console) works again after: \(failing)")
            self.failing = nil
        }
        prune()
        return true
    }

    private func failed(_ message: String) {
        if failing == nil { logger.error("\(message); output is not recorded until it works again (the console log has it)") }
        failing = message
    }

    /// Removes the oldest segments (never the one just opened) while over `keepBytes`.
    private func prune() {
        guard total > keepBytes else { return }
        var segments = RecordingPaths.segments(in: directory)
        total = segments.reduce(0) { $0 + $1.entry.size }
        var newestRemoved: Double?
        var removed = 0
        while total > keepBytes, segments.count > 1 {
            let oldest = segments.removeFirst()
            Files.removeFile(directory + "/" + oldest.entry.name)
            total -= oldest.entry.size
            newestRemoved = oldest.entry.modified
            removed += 1
        }
        guard let newestRemoved else { return }
        var sessions = 0
        for entry in (try? Files.files(in: sessionDir)) ?? [] where entry.modified < newestRemoved && Self.isSession(entry.name, of: console)
            && !live.contains(sessionDir + "/" + entry.name)
        {
            Files.removeFile(sessionDir + "/" + entry.name)
            sessions += 1
        }
        logger.notice("removed the \(removed) oldest recording segments of \(console) and \(sessions) sessions that ended in them: over record_keep_bytes \(keepBytes)")
    }

    /// `<console>-<number>-<number>.session`, so that console "a" does not take "a-b"'s.
    static func isSession(_ name: String, of console: String) -> Bool {
        guard name.hasPrefix(console + "-"), name.hasSuffix(".session") else { return false }
        let numbers = name.dropFirst(console.count + 1).dropLast(8).split(separator: "-", omittingEmptySubsequences: false)
        return numbers.count == 2 && numbers.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}
