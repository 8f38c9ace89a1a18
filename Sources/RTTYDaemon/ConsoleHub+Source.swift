import RTTYCore

/// What the source supervisor (SourceSupervisor.swift) reports, told to the clients, the
/// console log and the audit log; and input held back while the source takes none.
extension ConsoleHub {
    var source: OpenSource? { supervisor.current }
    var state: SourceSupervisor.State { supervisor.state }
    var stateReason: String { supervisor.reason }

    func openSource() { supervisor.open() }

    func sourceCameBack() {
        log?.mark("device back")
        metrics?.reopens.increment()
        record(.deviceBack)
        broadcast(notice: "device back")
    }

    func sourceLost(_ why: String) {
        log?.mark("device lost: \(why)")
        record(.deviceLost, nil, ("reason", .text(why)))
        broadcast(notice: "device lost: \(why); reopening")
        logger.warning("device lost: \(why)")
    }

    /// The device stopped taking input (or took it again): no client's socket is read until
    /// it takes more, and a client that attaches meanwhile starts held back too
    /// (`ClientRoster.enroll`), so input waits in the clients' own socket buffers, not in
    /// the daemon.
    func holdInput(_ paused: Bool) {
        guard roster.holdInput(paused), !paused else { return }
        for client in clients where client.inputDropped > 0 {
            logger.warning("\(client.who): \(client.inputDropped) bytes of input were dropped while the device was not taking any")
            client.inputDropped = 0
        }
    }

    /// The device queue is full. Held back, clients can only add what they had read when
    /// input was paused, so this is a backstop (many clients at once): the input is
    /// dropped, and the client told once per stall.
    func dropInput(_ count: Int, from client: ClientSession) {
        if client.inputDropped == 0 {
            client.refuse("console \(config.name) is not taking input (\(supervisor.queued) bytes wait for it); input dropped until it does")
        }
        client.inputDropped += count
    }
}
