import Foundation
import RTTYSystem
import Testing

/// A device console on one side of a socat pty pair: when socat dies, Linux gives the pty
/// number to the next terminal anyone opens. rttyd (root) must not open that terminal: it
/// would read another user's keystrokes into the console log and its clients, and could
/// type into it. A socat started again makes its link anew and is opened (RebootTests).
/// Serialized: each test hunts for a pty number, holding the lower ones meanwhile.
@Suite(.serialized) struct PtyReuseTests {
    @Test func aBarePtySlavePathIsNotReopenedForAnotherUsersTerminal() throws {
        try attack(configured: { _, slave in slave })
    }

    @Test func aDanglingSocatLinkIsNotFollowedToAnotherUsersTerminal() throws {
        try attack(configured: { link, _ in link })
    }

    /// Root's own terminals too (an sshd login's pty is root's until sshd hands it over;
    /// another console's command runs on a root pty): the owner alone does not tell.
    @Test func aReusedNumberIsNotReopenedForRootsTerminalEither() throws {
        try attack(configured: { _, slave in slave }, asRoot: true)
        try attack(configured: { link, _ in link }, asRoot: true)
    }

    /// socat's device side is configured as `configured(link, slave)`; socat is killed (its
    /// link is left behind), another user opens ptys until one has the same number and
    /// types a marker at it. Another program on the machine may take the number first:
    /// then all again, a few times.
    private func attack(configured: (String, String) -> String, asRoot: Bool = false) throws {
        for _ in 1...3 {
            if try attempt(configured: configured, asRoot: asRoot) { return }
        }
        Issue.record("never got the number of socat's pty after it was killed: other programs took it")
    }

    /// False when the number went to another program before the typist could take it.
    private func attempt(configured: (String, String) -> String, asRoot: Bool) throws -> Bool {
        let accounts = LocalAccounts()
        let other = try accounts.user("ptyuser")
        let env = try TestEnvironment()
        let link = env.root + "/ttyV0", guestSide = env.root + "/guest"
        let socat = try Socat(Socat.ptyPair(device: link, guest: guestSide))
        try waitUntil(timeout: 5, "socat's pty links") { FileManager.default.fileExists(atPath: link) }
        let slave = try FileManager.default.destinationOfSymbolicLink(atPath: link)
        try env.writeConfig("[console.v]\ndevice = \"\(configured(link, slave))\"")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        socat.stop()
        try daemon.waitForLog("device lost")

        let marker = "typed-by-\(other.name)-\(UUID().uuidString.prefix(6))"
        let typist = try PtyTypist(user: asRoot ? nil : other.name, wants: slave, marker: marker)
        defer { typist.stop() }
        try waitUntil(timeout: 20, "\(other.name) to get \(slave): \(typist.output)") { typist.output.contains("got ") }
        if typist.output.contains("never got") { return false }
        #expect(typist.output.contains("got \(slave) owner \(asRoot ? 0 : other.uid)"), "\(typist.output)")

        // Either the daemon says it refused the terminal, or the marker reached the log.
        let refusal = "someone else's terminal; not opened"
        try waitUntil(timeout: 15, "rttyd to refuse or open \(slave); stderr:\n\(daemon.stderr)") {
            daemon.stderr.contains(refusal) || env.logContents("v").contains(Data(marker.utf8))
        }
        let logged = String(decoding: env.logContents("v"), as: UTF8.self)
        #expect(!logged.contains(marker), "rttyd opened \(other.name)'s terminal \(slave); console log:\n\(logged)\nrttyd:\n\(daemon.stderr)")
        #expect(daemon.stderr.contains(refusal))
        print(daemon.stderr.split(separator: "\n").filter { $0.contains(refusal) }.prefix(1).joined())
        #expect(!daemon.stderr.contains("source open", after: "device lost"))
        // The refusal stays the console's reason while it is down.
        let status = try ControlTests.rttyctl(["status", "--control", env.socketDir + "/control"])
        #expect(status.stdout.contains(refusal), "rttyctl status:\n\(status.stdout)\(status.stderr)")
        return true
    }
}

/// A local user's python that opens ptys until it holds `wants` (the lowest free number is
/// handed out, so it keeps the lower ones open meanwhile), then types `marker` and a newline
/// at it every 0.2 s, as that user's own terminal would be typed at.
private final class PtyTypist: @unchecked Sendable {
    private let process = Process()
    private let pipe = Pipe()
    private let collected: PipeOutput

    private static let script = """
        import os, sys, time, fcntl
        want, mark = sys.argv[1], sys.argv[2].encode() + b"\\n"
        number = lambda path: int(path.rsplit("/", 1)[1])
        got = None
        for attempt in range(60):
            held = []
            while True:
                m, s = os.openpty()
                name = os.ttyname(s)
                if name == want:
                    got = (m, s)
                    break
                held.append((m, s))
                if number(name) > number(want):
                    break
            for m, s in held:
                os.close(m); os.close(s)
            if got:
                break
            time.sleep(0.1)
        if not got:
            print("never got", want, flush=True); sys.exit(2)
        m, s = got
        print("got", want, "owner", os.fstat(s).st_uid, flush=True)
        fcntl.fcntl(m, fcntl.F_SETFL, os.O_NONBLOCK)
        for _ in range(200):
            try:
                os.write(m, mark)
            except BlockingIOError:
                pass
            time.sleep(0.2)
        """

    /// `user` nil: as the test's own user, root.
    init(user: String?, wants: String, marker: String) throws {
        let command = (user.map { [LocalAccounts.setpriv] + LocalAccounts.setprivArguments($0) } ?? []) + ["/usr/bin/python3", "-c", Self.script, wants, marker]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = pipe
        process.standardError = pipe
        collected = PipeOutput(pipe)
        try process.start()
    }

    var output: String { collected.text }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.reap(pipe)
    }
}

private extension String {
    /// Whether `text` occurs after the first `mark`.
    func contains(_ text: String, after mark: String) -> Bool {
        guard let range = range(of: mark) else { return false }
        return self[range.upperBound...].contains(text)
    }
}
