import Logging
import NIOConcurrencyHelpers
import RTTYCore
import RTTYSystem
import SystemPackage

/// audit.jsonl: one JSON line per event, root-only (0600). Shared by every console, so
/// appends are serialised by a lock; each record is one write(2) on an O_APPEND file. A
/// record is whole in the file or not there at all: a write cut short (a full disk) is
/// cut back off the file, and the record is held (bounded) and retried; one that cannot
/// be held is counted as lost in the daemon's log. A line a crash left cut is ended when the
/// file is opened. Consoles never wait for the audit log.
final class AuditLog: Sendable {
    static let maxPending = 1 << 20

    private struct State {
        var fd: FileDescriptor?
        /// Whole records not yet in the file, oldest first.
        var pending: [[UInt8]] = []
        var pendingBytes = 0
        var failing: String?
        var dropped = 0
    }

    private let path: String
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// The copy for collectors, sent after the file has the record (AuditSyslog.swift).
    private let syslog: AuditSyslog?

    init(path: String, logger: Logger, syslog: AuditSyslog? = nil) {
        self.path = path
        self.logger = logger
        self.syslog = syslog
    }

    func record(_ event: AuditEvent) {
        guard let line = JSONLine.encode(event) else {
            logger.error("audit record \(event.kind.rawValue) could not be encoded; lost")
            return
        }
        state.withLockedValue { state in
            if state.pendingBytes + line.count <= AuditLog.maxPending {
                state.pending.append(line)
                state.pendingBytes += line.count
            } else {
                state.dropped += 1
            }
            flush(&state)
        }
        syslog?.send(event)
    }

    /// Opens the file now (at start-up and after a reopen), so that records can still be
    /// written when the process later runs out of descriptors.
    func prepare() {
        state.withLockedValue { flush(&$0) }
    }

    func close() {
        state.withLockedValue { state in
            try? state.fd?.close()
            state.fd = nil
        }
    }

    private func flush(_ state: inout State) {
        do {
            if state.fd == nil {
                let fd = try FileDescriptor.open(FilePath(path), .readWrite, options: [.append, .create, .closeOnExec], permissions: [.ownerReadWrite])
                state.fd = fd
                try Self.endCutLine(fd)
            }
            var written = 0
            defer {
                state.pendingBytes -= state.pending.prefix(written).reduce(0) { $0 + $1.count }
                state.pending.removeFirst(written)
            }
            for line in state.pending {
                try Self.append(line, to: state.fd!)
                written += 1
            }
            if state.dropped > 0 {
                logger.error("\(state.dropped) audit records were lost while \(path) could not be written")
                state.dropped = 0
            }
            if let failing = state.failing {
                logger.notice("audit log \(path) works again after: \(failing)")
                state.failing = nil
            }
        } catch {
            try? state.fd?.close()
            state.fd = nil
            if state.failing == nil {
                logger.error("cannot write the audit log \(path): \(error); holding records and retrying")
            }
            state.failing = "\(error)"
        }
    }

    /// A file whose last line has no newline was cut mid-record (rttyd killed, power lost,
    /// a write by another hand): end that line first, so that the next record is a line of
    /// its own and not glued onto it (the readers skip the cut one and count it).
    private static func endCutLine(_ fd: FileDescriptor) throws {
        let size = try fd.seek(offset: 0, from: .end)
        guard size > 0 else { return }
        var last: UInt8 = 0
        let read = try withUnsafeMutableBytes(of: &last) { try fd.read(fromAbsoluteOffset: size - 1, into: $0, retryOnInterrupt: true) }
        if read == 1, last != 10 { try append([10], to: fd) }
    }

    /// One whole record, or none: a short write is continued, and if the rest cannot be
    /// written the part already in the file is cut off again, so that no half line is
    /// left for the next record to merge with.
    private static func append(_ line: [UInt8], to fd: FileDescriptor) throws {
        let start = try fd.seek(offset: 0, from: .end)
        var written = 0
        do {
            while written < line.count {
                written += try line[written...].withUnsafeBytes { try fd.write($0, retryOnInterrupt: true) }
            }
        } catch {
            if written > 0 { _ = try? fd.resize(to: start, retryOnInterrupt: true) }
            throw error
        }
    }
}
