import NIOCore
import RTTYCore

/// One attached client of one console. Confined to the console's event loop.
/// Sendable only so event-loop closures can hold it; every use is on the console's loop.
final class ClientSession: @unchecked Sendable {
    enum Rights: String { case readWrite = "rw", readOnly = "ro" }

    let id: String
    let channel: Channel
    private(set) var uid: UInt32
    private(set) var pid: Int32
    private(set) var userName: String
    let connectedAt: Double
    var identity: String?
    var rights: Rights = .readWrite
    /// Spoke rtty/1 (HELLO): may receive extension frames and large DATA frames.
    var extended = false
    var wantsReplay = true
    var replayDone = false
    var lastInput: Double
    var bytesIn = 0
    var bytesOut = 0
    var toldReadOnly = false
    var closing = false
    var admitted = false
    /// Whether the session is on record (`ConsoleHub.recordStart`).
    var record = Record.pending

    enum Record {
        /// Admitted, nothing sent yet: a session, or a probe about to say so.
        case pending
        /// Its first frame was a probe HELLO: answered and closed, never a session.
        case probe
        /// Its session-start record is written.
        case started
    }

    var isProbe: Bool { record == .probe }
    var isOnRecord: Bool { record == .started }
    /// Why the session ended, for the audit record; nil = the client left.
    var endReason: String?
    /// What rtty-shell (or whoever) claims about the session: SSH_CONNECTION, SSH_TTY,
    /// TERM, COMMAND, sanitized; nil until its METADATA came (accepted once).
    var metadata: SessionMetadata?
    var replayTimer: Scheduled<Void>?
    /// This session's input and span in the console's recording (nil: not recorded).
    var recording: SessionRecording?
    /// A TCP session (`tcp = ...`): raw bytes or telnet, no frames, no notices; nil for
    /// Unix-socket clients.
    var tcpMode: Config.TCPAccess.Mode?
    /// "address port" of a TCP peer.
    var peerAddress: String?
    /// Input dropped because the device queue was full, since the device last took input.
    var inputDropped = 0
    /// This session's runs of BREAKs and setting changes, reported coalesced.
    var runs: [RequestRun: FloodReport] = [:]
    var runTimers: [RequestRun: Scheduled<Void>] = [:]
    /// The address alone: what tcp_allow and the per-address limit look at.
    var peerHost: String? { peerAddress?.split(separator: " ").first.map(String.init) }

    init(id: String, channel: Channel, uid: UInt32, pid: Int32, userName: String, now: Double) {
        self.id = id
        self.channel = channel
        self.uid = uid
        self.pid = pid
        self.userName = userName
        self.connectedAt = now
        self.lastInput = now
    }

    /// Called once the peer's credentials were read from the socket.
    func verified(uid: UInt32, pid: Int32, userName: String) {
        self.uid = uid
        self.pid = pid
        self.userName = userName
    }

    /// How other users see this client: the WHOSON text, with the login part replaced by
    /// the verified user name when they differ (a client cannot pose as someone else).
    var who: String {
        if let peerAddress { return "tcp@" + peerAddress.replacingSpaces(with: ":") }
        guard let identity, !identity.isEmpty else { return "\(userName)@?" }
        let parts = identity.split(separator: "@", maxSplits: 1)
        let claimedTTY = parts.count == 2 ? String(parts[1]) : "?"
        return "\(userName)@\(claimedTTY)"
    }

    /// Where the client is: `from`, the verified TCP peer, or `claimed_from`, the address
    /// its METADATA claims (an ssh login's, unverified); neither for a local client.
    var addressFields: [(String, String)] {
        if let peerAddress { return [("from", peerAddress)] }
        return metadata?.claimedFrom.map { [("claimed_from", $0)] } ?? []
    }

    // MARK: what may go on this client's wire: decided here, by its wire form, and nowhere else

    /// The one write. Private, so that nothing reaches the wire without passing one of the
    /// gates below (a prebuilt frame handed to a raw send once leaked to TCP clients).
    private func write(_ buffer: ByteBuffer) {
        guard !closing else { return }
        bytesOut += buffer.readableBytes
        channel.writeAndFlush(buffer, promise: nil)
    }

    /// Device output framed once in this client's wire form by its `ClientOutput` sink.
    func send(output buffer: ByteBuffer) { write(buffer) }

    /// Console bytes (replay, tail) in this client's wire form.
    func send(console bytes: ByteBufferView) {
        var buffer = channel.allocator.buffer(capacity: bytes.count + 16)
        wireForm.append(bytes, to: &buffer)
        write(buffer)
    }

    /// Frames and notices go to Unix-socket clients only: a TCP client gets console bytes
    /// (and, in telnet mode, telnet's own protocol).
    func send(_ frame: Frame) {
        guard wireForm.carriesFrames else { return }
        write(FrameWriter.frame(frame, allocator: channel.allocator))
    }

    func notice(_ text: String) {
        guard wireForm.carriesFrames else { return }
        write(FrameWriter.notice(text, allocator: channel.allocator))
    }

    /// A notice framed once for many clients (a broadcast).
    func send(_ notice: FrameWriter.Notice) {
        guard wireForm.carriesFrames else { return }
        write(notice.buffer)
    }

    /// Telnet negotiation and RFC 2217 answers, to telnet clients only.
    func send(telnet bytes: [UInt8]) {
        guard wireForm == .telnet, !bytes.isEmpty else { return }
        write(channel.allocator.buffer(bytes: bytes))
    }

    var wireForm: WireForm {
        switch tcpMode {
        case .raw?: .raw
        case .telnet?: .telnet
        case nil: extended ? .extended : .classic
        }
    }

    /// An rtty/1 ERROR for extended clients, a NOTICE for classic ones.
    func refuse(_ text: String) {
        if extended {
            send(.withText(.error, text))
        } else {
            notice(text)
        }
    }

    func close(notice text: String?) {
        guard !closing else { return }
        if let text { notice(text) }
        closing = true
        replayTimer?.cancel()
        channel.close(promise: nil)
    }
}
