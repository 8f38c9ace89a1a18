import Logging
import NIOConcurrencyHelpers
import RTTYCore
import RTTYSystem
import SystemPackage

/// A copy of every audit record for collectors (`[control] audit_syslog`): RFC 5424 with
/// structured data to the syslog socket, or native fields to journald when rttyd runs
/// under systemd. The JSON-lines file is the authority and is written first; this copy is
/// one non-blocking datagram sent on the caller's thread (no writer thread, no queue): a
/// receiver that is gone, stopped or full drops the copy at once and counts it
/// (`dropped`, in `rttyctl status --json` and the metrics). A console never waits for it.
final class AuditSyslog: Sendable {
    static let journalSocket = "/run/systemd/journal/socket"
    static let syslogSocket = "/dev/log"
    /// A failing receiver is said in the daemon's log at most this often.
    static let warningInterval = 60.0

    enum Target: Equatable {
        case off
        case syslog(socket: String, facility: SyslogFacility)
        case journal(socket: String, facility: SyslogFacility)
    }

    private struct State {
        var target = Target.off
        var fd: FileDescriptor?
        var dropped = 0
        var lastWarning = -Double.infinity
    }

    private let logger: Logger
    private let hostName = ProcessStats.hostName()
    private let pid = ProcessIdentity.pid
    private let state = NIOLockedValueBox(State())

    init(logger: Logger) { self.logger = logger }

    /// Where the copies go for `config`: off without `audit_syslog`; `[paths]
    /// syslog_socket` (RFC 5424) or `journal_socket` (native fields) when set; else the
    /// journal's own socket when rttyd runs under systemd with the journal (JOURNAL_STREAM
    /// set, its socket there), because journald reads RFC 5424 on /dev/log as plain text and
    /// its fields would be lost; else /dev/log.
    static func target(for config: Config) -> Target {
        guard let facility = config.auditSyslog else { return .off }
        if let socket = config.paths.syslogSocket { return .syslog(socket: socket, facility: facility) }
        if let socket = config.paths.journalSocket { return .journal(socket: socket, facility: facility) }
        if ProcessEnvironment.value("JOURNAL_STREAM") != nil, Files.isSocket(journalSocket) {
            return .journal(socket: journalSocket, facility: facility)
        }
        return .syslog(socket: syslogSocket, facility: facility)
    }

    /// At start-up and on each reload.
    func configure(_ config: Config) {
        let target = Self.target(for: config)
        state.withLockedValue { state in
            guard state.target != target else { return }
            state.target = target
            if target == .off {
                try? state.fd?.close()
                state.fd = nil
            }
        }
        switch target {
        case .off: break
        case .syslog(let socket, let facility): logger.info("audit records also go to syslog at \(socket) (RFC 5424, facility \(facility.name))")
        case .journal(let socket, let facility): logger.info("audit records also go to the journal at \(socket) (facility \(facility.name))")
        }
    }

    var dropped: Int { state.withLockedValue { $0.dropped } }

    func send(_ event: AuditEvent) {
        // Formatted outside the lock; the lock covers the descriptor and the count only.
        let socket: String, message: [UInt8]
        switch state.withLockedValue({ $0.target }) {
        case .off: return
        case .syslog(let path, let facility):
            socket = path
            message = SyslogFormat.rfc5424(event, facility: facility, hostname: hostName, pid: pid)
        case .journal(let path, let facility):
            socket = path
            message = SyslogFormat.journalDatagram(SyslogFormat.journalFields(event, facility: facility))
        }
        state.withLockedValue { state in
            do {
                if state.fd == nil { state.fd = try UnixDatagram.open() }
                try UnixDatagram.send(message, on: state.fd!, to: socket)
            } catch {
                state.dropped += 1
                let now = WallClock.monotonicSeconds()
                if now - state.lastWarning >= Self.warningInterval {
                    state.lastWarning = now
                    logger.warning("audit copy to \(socket) not sent: \(error); \(state.dropped) dropped so far (the audit file has every record)")
                }
            }
        }
    }
}
