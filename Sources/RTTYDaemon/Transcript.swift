import Logging
import RTTYCore
import RTTYSystem
import SystemPackage

/// One session's transcript: `<session_dir>/<session>.cast`, asciicast v2, root-only (0600
/// in a 0700 directory). Events are buffered and written in batches by the console's loop;
/// a write error (full disk) is reported once and the transcript stops, the session goes on.
final class Transcript {
    static let flushBytes = 64 * 1024

    let path: String
    private let directory: String
    private let session: String
    private let startedAt: Double
    private var ended = false
    private let logger: Logger
    private var fd: SystemPackage.FileDescriptor?
    private var buffer: [UInt8] = []
    private var input = Asciicast.Stream()

    /// Made, and begun, with the session's start record (`ConsoleHub.recordStart`), before
    /// the client's first input or output: nothing of the session precedes it.
    init(directory: String, session: String, logger: Logger) {
        self.directory = directory
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
            return false
        }
        buffer.append(contentsOf: header.utf8)
        flush()  // the file says at once that the session began
        return fd != nil
    }

    deinit { close() }

    var pendingBytes: Int { buffer.count }

    /// Console output, already quoted once for every session that shares it.
    func output(quoted: String) { append("o", quoted) }

    func input(_ bytes: [UInt8]) { append("i", input.quote(bytes)) }

    private func append(_ kind: Character, _ quoted: String) {
        guard !ended, fd != nil else { return }
        buffer.append(contentsOf: Asciicast.event(seconds: WallClock.monotonicSeconds() - startedAt, kind: kind, quoted: quoted).utf8)
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
            buffer = []
        }
    }

    func close() {
        flush()
        try? fd?.close()
        fd = nil
        ended = true
    }
}
