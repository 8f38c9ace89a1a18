import Testing
@testable import RTTYCore

/// The daemon's closing notices and the exit status a client reads from each (issue 13,
/// item 9): one table, so the two sides cannot drift apart.
@Suite struct SessionEndTests {
    @Test(arguments: [
        (ClosingNotice.denied(user: "vixie", console: "pbx"), RTTYCore.ExitStatus.denied),
        (.unverified, .denied),
        (.full(console: "pbx", why: "console full: max_clients 10"), .error),
        (.kicked(by: "root"), .detached),
        (.revoked(console: "pbx"), .detached),
        (.removed(console: "pbx"), .consoleClosed),
        (.shuttingDown, .consoleClosed),
        (.restarting, .consoleClosed),
        (.notStarted, .consoleClosed),
        (.protocolError("frame too long"), .error),
    ])
    func everyClosingNoticeMapsToItsStatus(notice: ClosingNotice, status: RTTYCore.ExitStatus) {
        #expect(ClosingNotice.exitStatus(after: notice.text) == status, "\(notice.text)")
    }

    /// What the daemon broadcasts while a session goes on is never read as its end, even
    /// with a user name or tty that tries to look like one.
    @Test(arguments: [
        "authorized", "vixie@pts/3 connected", "vixie@pts/3 disconnected", "BREAK sent by vixie@pts/3",
        "line settings now 9600 7E1 (by vixie@pts/3)", "device lost: EIO; reopening", "device back",
        "console reconfigured: device /dev/ttyS0, 9600 8N1", "tcp@127.0.0.1:4000 connected",
        "vixie@access\\x20denied: connected", "read-only session: input refused",
    ])
    func otherNoticesAreNotAnEnd(text: String) {
        #expect(ClosingNotice.exitStatus(after: text) == nil, "\(text)")
    }
}
