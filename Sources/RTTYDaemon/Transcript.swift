import Logging
import RTTYCore
import RTTYSystem
import SystemPackage

/// One session's transcript: `<session_dir>/<session>.cast`, asciicast v2, root-only (0600
/// in a 0700 directory). Events are buffered and written in batches by the console's loop;
/// a write error (full disk) is reported once and the transcript stops, the session goes on.
/// Bounded by `maxBytes`, half for what the session saw and half for what it typed, so
/// that a large replay or burst of output cannot crowd out the input: when one half is
/// full an event says so and that kind is recorded no more (the console log still has the
/// output). A session that typed nothing leaves no file: all it saw is in the console log.
final class Transcript {
    static let flushBytes = 64 * 1024

    /// How the transcript ended, for the session-end record.
    enum Outcome: Equatable {
        case kept
        /// One half (output or input) was full; `kind` says which first.
        case cut(kind: String)
        case removedNoInput
        case failed
    }

    let path: String
    private let directory: String
    private let session: String
    private let startedAt: Double
    private var ended = false
    private let maxBytes: Int
    /// Bytes in the file plus in `buffer`.
    private(set) var size = 0
    /// Bytes of output and of input events, each held to half of `maxBytes`; nil once
    /// that half was cut.
    private var outputBytes: Int? = 0
    private var inputBytes: Int? = 0
    private var typed = false
    private(set) var outcome = Outcome.kept
    private let logger: Logger
    private var fd: SystemPackage.FileDescriptor?
    private var buffer: [UInt8] = []
    private var input = Asciicast.Stream()

    /// Made, and begun, with the session's start record (`ConsoleHub.recordStart`), before
    /// the client's first input or output: nothing of the session precedes it.
    init(directory: String, session: String, maxBytes: Int, logger: Logger) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.session = session
        path = directory + "/" + session + ".cast"
        startedAt = WallClock.monotonicSeconds()
        self.logger = logger
    }

    /// Creates the file; false if it cannot be (reported).
    func begin(header: String) -> Bool {
        do {
            try Files.makeDirectory(directory, mode: 0o700)
            fd = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: [.ownerReadWrite])
        } catch {
            logger.error("no transcript for session \(session): cannot create \(path): \(error)")
            ended = true
            outcome = .failed
            return false
        }
        buffer.append(contentsOf: header.utf8)
        size = buffer.count
        flush()  // the file says at once that the session began
        return fd != nil
    }

    deinit { close() }

    var pendingBytes: Int { buffer.count }

    /// Console output, already quoted once for every session that shares it.
    func output(quoted: String) { append("o", quoted) }

    func input(_ bytes: [UInt8]) {
        typed = true
        append("i", input.quote(bytes))
    }

    private func append(_ kind: Character, _ quoted: String) {
        let isOutput = kind == "o"
        guard !ended, fd != nil, let spent = isOutput ? outputBytes : inputBytes else { return }
        let seconds = WallClock.monotonicSeconds() - startedAt
        let event = Asciicast.event(seconds: seconds, kind: kind, quoted: quoted).utf8
        let total = spent + event.count
        let used: Int?
        if total <= maxBytes / 2 {
            buffer.append(contentsOf: event)
            size += event.count
            used = total
        } else {
            // The last event of this kind says where and why.
            let what = isOutput ? "output" : "input"
            var stream = Asciicast.Stream()
            let note = "\r\n[rtty: transcript \(what) cut at \(maxBytes / 2) bytes (half of transcript_max_bytes)\(isOutput ? "; later output is in the console log" : "")]\r\n"
            let marker = Asciicast.event(seconds: seconds, kind: "o", quoted: stream.quote(Array(note.utf8))).utf8
            buffer.append(contentsOf: marker)
            size += marker.count
            used = nil
            if case .kept = outcome { outcome = .cut(kind: what) }
            logger.warning("transcript \(path): \(what) cut at \(maxBytes / 2) bytes")
        }
        if isOutput { outputBytes = used } else { inputBytes = used }
        if buffer.count >= Transcript.flushBytes { flush() }
    }

    func flush() {
        guard let fd, !buffer.isEmpty else { return }
        do {
            _ = try buffer.withUnsafeBytes { try fd.writeAll($0) }
            buffer.removeAll(keepingCapacity: true)
        } catch {
            logger.error("transcript \(path) stopped: \(error); the session goes on without it")
            try? fd.close()
            self.fd = nil
            ended = true
            outcome = .failed
            buffer = []
        }
    }

    func close() {
        flush()
        try? fd?.close()
        fd = nil
        ended = true
    }

    /// The session's end: a transcript of a session that typed nothing is removed.
    func finish() -> Outcome {
        close()
        if !typed, outcome != .failed {
            Files.removeFile(path)
            outcome = .removedNoInput
        }
        return outcome
    }
}

/// `transcript_keep_bytes`: a console's transcripts together stay under the bound, the
/// oldest removed first (never one still being written). The session directory is listed
/// when the bound may have been passed (the bytes written since the last listing say so),
/// not for every session.
struct TranscriptRetention {
    private var known: Int?

    /// Called before a new transcript of `console` begins.
    mutating func prune(directory: String, console: String, keep: Int, open: Set<String>, logger: Logger) {
        if let known, known < keep { return }
        guard let files = try? Files.files(in: directory) else { return }
        var mine = files.filter { $0.name.hasPrefix(console + "-") && $0.name.hasSuffix(".cast") }.sorted { $0.modified < $1.modified }
        var total = mine.reduce(0) { $0 + $1.size }
        var removed = 0
        while total >= keep, let oldest = mine.first {
            mine.removeFirst()
            guard !open.contains(directory + "/" + oldest.name) else { continue }
            Files.removeFile(directory + "/" + oldest.name)
            total -= oldest.size
            removed += 1
        }
        if removed > 0 { logger.notice("removed the \(removed) oldest transcripts of \(console): over transcript_keep_bytes \(keep)") }
        known = total
    }

    /// Bytes a transcript of this console wrote.
    mutating func wrote(_ bytes: Int) {
        if let current = known { known = current + bytes }
    }
}
