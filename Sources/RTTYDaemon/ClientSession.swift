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
    /// How console bytes, frames and notices look on this client's wire: fixed by the
    /// listener it came through, except that a classic client may speak rtty/1 (HELLO).
    private(set) var wireForm: WireForm
    var lastInput: Double
    var bytesIn = 0
    var bytesOut = 0
    var toldReadOnly = false
    /// Where the session is in its life (`Life`): one value, changed only below.
    private(set) var life = Life.open(.connecting)

    /// A session's life, as one value: a replay sent to a session not on record, a probe on
    /// record or an admitted session still connecting cannot be written.
    enum Life: Equatable {
        case open(Stage)
        /// Being closed: no more writes. The stage it reached is kept, since its end is
        /// recorded from it (`ConsoleHub.detach`).
        case closing(Stage)
    }

    enum Stage: Equatable {
        /// Connected; its credentials, access and the limits not decided yet (or refused).
        case connecting
        /// Admitted and counted; nothing on record yet: a session, or a probe about to say so.
        case admitted
        /// Its first frame was a probe HELLO: answered and closed, never a session.
        case probe
        /// Its session-start record is written (`ConsoleHub.recordStart`).
        case onRecord(Replay)
    }

    /// The recent output (replay ring) a session on record gets before live output.
    enum Replay: Equatable {
        case due
        case sent
        /// It asked for none (HELLO no-replay): live output from now on.
        case declined
    }

    var stage: Stage {
        switch life {
        case .open(let stage), .closing(let stage): stage
        }
    }

    var closing: Bool {
        if case .closing = life { return true }
        return false
    }

    /// Admitted by the console: counted in its limits and sent its broadcasts.
    var admitted: Bool { stage != .connecting }
    var isProbe: Bool { stage == .probe }
    var isOnRecord: Bool {
        if case .onRecord = stage { return true }
        return false
    }

    /// Live output goes to a session once it has had its replay (or declined it).
    var replayDone: Bool {
        get {
            if case .onRecord(let replay) = stage { return replay != .due }
            return false
        }
        set {
            assert(newValue, "a replay once sent stays sent")
            if newValue, case .open(.onRecord(.due)) = life { life = .open(.onRecord(.sent)) }
        }
    }

    /// False once it declined the replay (HELLO no-replay).
    var wantsReplay: Bool { stage != .onRecord(.declined) }

    /// Spoke rtty/1 (HELLO): may receive extension frames and large DATA frames.
    var extended: Bool { wireForm == .extended }

    /// The console admitted it (`ConsoleHub.admit`).
    func admit() {
        guard life == .open(.connecting) else { return }
        life = .open(.admitted)
    }

    /// Its first frame was a probe HELLO; a session already on record stays one.
    func markProbe() {
        guard life == .open(.admitted) else { return }
        life = .open(.probe)
    }

    /// Its session-start record is being written: also when it is closing (a session that
    /// ends before its first frame is recorded all the same). False if it was not due.
    func putOnRecord() -> Bool {
        switch life {
        case .open(.admitted): life = .open(.onRecord(.due))
        case .closing(.admitted): life = .closing(.onRecord(.due))
        default: return false
        }
        return true
    }

    /// HELLO with no-replay: live output only.
    func declineReplay() {
        if case .open(.onRecord(.due)) = life { life = .open(.onRecord(.declined)) }
    }

    /// Said HELLO: rtty/1 from now on. TCP clients have no frames to upgrade.
    func speaksExtended() {
        if wireForm == .classic { wireForm = .extended }
    }

    /// No more writes; the channel's close follows (or is under way).
    func markClosing() {
        if case .open(let stage) = life { life = .closing(stage) }
    }

    /// Why the session ended, for the audit record; nil = the client left.
    var endReason: String?
    /// What rtty-shell (or whoever) claims about the session: SSH_CONNECTION, SSH_TTY,
    /// TERM, COMMAND, sanitized; nil until its METADATA came (accepted once).
    var metadata: SessionMetadata?
    var replayTimer: Scheduled<Void>?
    /// This session's input and span in the console's recording (nil: not recorded).
    var recording: SessionRecording?
    /// "address port" of a TCP peer (raw bytes or telnet: no frames, no notices); nil for
    /// Unix-socket clients.
    let peerAddress: String?
    /// Input dropped because the device queue was full, since the device last took input.
    var inputDropped = 0
    /// This session's runs of BREAKs and setting changes, reported coalesced.
    var runs: [RequestRun: FloodReport] = [:]
    var runTimers: [RequestRun: Scheduled<Void>] = [:]
    /// The address alone: what tcp_allow and the per-address limit look at.
    var peerHost: String? { peerAddress?.split(separator: " ").first.map(String.init) }

    /// A Unix-socket client (no TCP `mode`), or a TCP one from `peerAddress`.
    init(id: String, channel: Channel, userName: String, tcp mode: Config.TCPAccess.Mode? = nil, peerAddress: String? = nil, now: Double) {
        self.id = id
        self.channel = channel
        self.uid = UInt32.max
        self.pid = -1
        self.userName = userName
        self.peerAddress = peerAddress
        switch mode {
        case .raw?: wireForm = .raw
        case .telnet?: wireForm = .telnet
        case nil: wireForm = .classic
        }
        self.connectedAt = now
        self.lastInput = now
    }

    /// Its uid and pid are the kernel's (a TCP peer has neither; its address is verified).
    var isVerified: Bool { peerAddress != nil || pid >= 0 }

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
        markClosing()
        replayTimer?.cancel()
        channel.close(promise: nil)
    }
}
