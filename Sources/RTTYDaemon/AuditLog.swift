import Logging
import NIOConcurrencyHelpers
import RTTYCore
import RTTYSystem
import SystemPackage

/// audit.jsonl: one JSON line per event, root-only (0600). Shared by every console, so
/// appends are serialised by a lock; each record is one write(2) on an O_APPEND file. A
/// write error is reported once and records are held (bounded) and retried; consoles
/// never wait for the audit log.
final class AuditLog: Sendable {
    static let maxPending = 1 << 20

    private struct State {
        var fd: FileDescriptor?
        var pending: [UInt8] = []
        var failing: String?
        var dropped = 0
    }

    private let path: String
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    func record(_ event: AuditEvent) {
        let line = Array(event.jsonLine().utf8)
        state.withLockedValue { state in
            if state.pending.count + line.count <= AuditLog.maxPending {
                state.pending += line
            } else {
                state.dropped += 1
            }
            flush(&state)
        }
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
                state.fd = try FileDescriptor.open(
                    FilePath(path), .writeOnly, options: [.append, .create, .closeOnExec], permissions: [.ownerReadWrite])
            }
            _ = try state.pending.withUnsafeBytes { try state.fd!.writeAll($0) }
            state.pending.removeAll(keepingCapacity: true)
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
}
