import NIOCore
import RTTYCore

/// Direct TCP access to a console (`tcp = "HOST:PORT"`, rtty.conf(5)): raw bytes or telnet
/// with RFC 2217. A TCP session is an ordinary session (broadcast, replay, write policy,
/// audit with the peer address instead of a uid), read-only if `tcp_rights = "ro"`.
extension ConsoleHub {
    /// The recent output, once the client's side of the connection is set up.
    func startTCPSession(_ session: ClientSession) {
        sendReplayIfDue(session)
    }

    // MARK: RFC 2217

    /// Carries out one COM-PORT-OPTION request (LineControl.swift); changes go through the
    /// same path as the socket protocol, so every client is told and the change is logged
    /// and audited.
    func comPort(_ request: ComPort.Request, from client: ClientSession) -> [UInt8] {
        let requester = LineControl.Requester(
            mayWrite: { self.mayWrite(client, $0) },
            // A refusal is logged there, coalesced.
            change: { if self.mayWrite(client, "setting changes") { _ = self.changeError($0, client: client) } },
            sendBreak: { self.sendBreak(by: client) == nil })
        return line.comPort(request, fd: source?.control, console: config.name, by: requester)
    }
}
