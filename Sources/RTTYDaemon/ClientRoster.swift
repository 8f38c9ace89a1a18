import NIOCore
import RTTYCore
import RTTYSystem

/// Who is attached to one console and who may type: the admitted sessions, the write lock
/// and whether their input is held back. Changed only through these methods, on the
/// console's loop (`ConsoleHub.roster`); the one admission path that fills it is
/// ConsoleHub+Admission.swift.
final class ClientRoster {
    /// Admitted sessions, in the order they joined (broadcasts and output go in this order).
    private(set) var clients: [ClientSession] = []
    /// Under `write_policy = "exclusive"`, the one session whose input reaches the device.
    private(set) var writeLockHolder: ClientSession?
    /// The device is not taking input: no client's socket is read until it takes more.
    private(set) var inputPaused = false
    private var sessionCounter = 0

    func nextSessionID(console: String) -> String {
        sessionCounter += 1
        return "\(console)-\(Int(WallClock.monotonicSeconds() * 1000) % 100_000_000)-\(sessionCounter)"
    }

    /// The client limits (`Admission`) for one more session of `peer`.
    func verdict(for peer: Peer, privileged: Bool, limits: Admission.Limits) -> Admission.Verdict {
        let own: Int
        switch peer {
        case .local(let uid, _): own = clients.count { $0.peerAddress == nil && $0.uid == uid }
        // No uid on TCP: the peer address stands for the user in the per-user limit.
        case .tcp(let address): own = clients.count { $0.peerHost == address }
        }
        return Admission.decide(privileged: privileged, ownSessions: own, clients: clients.count, limits: limits)
    }

    /// A session that passed every check joins; it starts held back if the others are.
    func enroll(_ session: ClientSession) {
        clients.append(session)
        session.admit()
        if inputPaused { Self.reads(session, false) }
    }

    /// The session left; false if it never joined. It lets go of the write lock.
    func remove(_ session: ClientSession) -> Bool {
        guard let index = clients.firstIndex(where: { $0 === session }) else { return false }
        clients.remove(at: index)
        if writeLockHolder === session { writeLockHolder = nil }
        return true
    }

    func contains(_ session: ClientSession) -> Bool { clients.contains { $0 === session } }

    // MARK: the write lock (write_policy = "exclusive")

    /// A read-write session that says who it is takes a free lock.
    func claimLockIfFree(_ session: ClientSession, policy: Config.WritePolicy) {
        guard policy == .exclusive, writeLockHolder == nil, session.rights == .readWrite else { return }
        writeLockHolder = session
    }

    /// Who holds the lock and so keeps `session`'s input off the device; nil: it may type
    /// (and, with the lock free, now holds it).
    func lockBlocking(_ session: ClientSession, policy: Config.WritePolicy) -> ClientSession? {
        guard policy == .exclusive else { return nil }
        if writeLockHolder == nil { writeLockHolder = session }
        return writeLockHolder === session ? nil : writeLockHolder
    }

    /// `session` takes the lock over; returns who had it.
    func takeLock(_ session: ClientSession) -> ClientSession? {
        defer { writeLockHolder = session }
        return writeLockHolder
    }

    /// False when `session` did not hold it.
    func releaseLock(_ session: ClientSession) -> Bool {
        guard writeLockHolder === session else { return false }
        writeLockHolder = nil
        return true
    }

    /// The session may no longer write: read-only now (an ACL reload, or its own HELLO),
    /// so it cannot keep the lock from those who may.
    func lowerToReadOnly(_ session: ClientSession) {
        session.rights = .readOnly
        _ = releaseLock(session)
    }

    // MARK: input held back while the device is not taking any

    /// Returns false when nothing changed.
    func holdInput(_ paused: Bool) -> Bool {
        guard inputPaused != paused else { return false }
        inputPaused = paused
        for client in clients { Self.reads(client, !paused) }
        return true
    }

    private static func reads(_ client: ClientSession, _ on: Bool) {
        client.channel.setOption(.autoRead, value: on).whenFailure { _ in }
    }
}

/// Who a connecting client is, as far as the daemon can tell: the kernel's credentials
/// for a Unix-socket client, the address for a TCP one. Nothing the client says.
enum Peer {
    case local(uid: UInt32, pid: Int32)
    case tcp(address: String)
}
