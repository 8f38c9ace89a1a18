import Foundation
import RTTYSystem
import Testing

/// Reloads and control requests at once: the daemon's configuration, ACL and audit log are
/// swapped by reloads while control requests read them from other threads. Built with
/// ThreadSanitizer (docs/RELIABILITY.md, section 6) this shows any unguarded access; built
/// normally it still checks that every request gets a whole, correct answer meanwhile.
@Suite struct DaemonRaceTests {
    /// Three configurations a reload cycles through: a console added, removed and changed,
    /// the admin group changed, and the ACL and audit paths moved (every console restarts).
    /// Device consoles (ptys), not exec ones: no child processes, which would hold accepted
    /// control connections open for as long as they live if they inherited them.
    static func writeConfig(_ variant: Int, env: TestEnvironment, guests: [PtyGuest]) throws {
        // Every console changes at every reload, so that hubs are reconfigured all along.
        var body = ""
        for (name, guest) in zip(["a", "b", "extra"], guests) where name != "extra" || variant == 1 {
            body += "[console.\(name)]\ndevice = \"\(guest.devicePath)\"\nreplay_bytes = \(4096 * (variant + 1))\n"
        }
        body += "[control]\nadmin_group = \"\(variant == 1 ? "root" : "rtty-storm-admins")\"\n"
        try env.writeConfig(body)
        guard variant == 2 else { return }
        let text = try String(contentsOfFile: env.configPath, encoding: .utf8)
            .replacingOccurrences(of: "/audit.jsonl\"", with: "/audit2.jsonl\"")
            .replacingOccurrences(of: "/access\"", with: "/access2\"")
        try text.write(toFile: env.configPath, atomically: true, encoding: .utf8)
    }

    @Test func reloadStormWithControlStorm() throws {
        let env = try TestEnvironment()
        let guests = try (0..<3).map { _ in try PtyGuest() }
        for acl in ["access", "access2"] { try "root * rw\n".write(toFile: env.root + "/" + acl, atomically: true, encoding: .utf8) }
        try Self.writeConfig(0, env: env, guests: guests)
        // Quiet: every log line takes the log handler's lock, which orders the threads and so
        // hides races from ThreadSanitizer.
        let daemon = try DaemonProcess(env, arguments: ["--log-level", "error"])
        let control = env.socketDir + "/control"
        try waitUntil(timeout: 30, "the control socket; rttyd said: \(daemon.stderr)") { Files.isSocket(control) }
        let requests = ["status", "who a", "grant rw nobody a", "revoke nobody a", "sessions", "acl", "acl-check nobody a", "status b", "reload"]

        // RTTY_STORM_RELOADS: a longer storm than the suite's (docs/RELIABILITY.md).
        let reloads = ProcessInfo.processInfo.environment["RTTY_STORM_RELOADS"].flatMap { Int($0) } ?? 150
        let tally = Tally()
        let storm = Thread {
            for round in 0..<reloads {
                try? Self.writeConfig(round % 3, env: env, guests: guests)
                daemon.signal(SIGHUP)
                usleep(20_000)
            }
            tally.finish()
        }
        storm.start()
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            var index = worker
            while !tally.finished {
                let request = requests[index % requests.count]
                index += 1
                do {
                    let answer = try ControlClient.ask(control, request)
                    let object = (try? JSONSerialization.jsonObject(with: Data(answer.utf8))) as? [String: Any]
                    // While a reload restarts every console (its paths changed) there are none.
                    let restarting = (object?["error"] as? String)?.hasPrefix("no console") == true
                    tally.count(object?["ok"] as? Bool == true || restarting ? nil : "\(request): \(answer)")
                } catch {
                    // The control socket's path does not change here: it is there all along.
                    tally.count("\(request): \(error)")
                }
            }
        }
        let after = try? ControlClient.ask(control, "status")
        #expect(after.flatMap(controlOutcome)?.ok == true, "after the storm: \(after ?? "no answer"); rttyd said: \(daemon.stderr.suffix(3000))")
        let status = try daemon.stop(timeout: 30)
        let stderr = daemon.stderr
        let report = stderr.range(of: "WARNING: ThreadSanitizer").map { String(stderr[$0.lowerBound...].prefix(6000)) }
        #expect(report == nil, "\(report ?? "")")
        #expect(status == 0, "rttyd exited with \(status)")
        let (answers, wrong) = tally.result
        #expect(wrong.isEmpty, "\(wrong.count) of \(answers) answers wrong, e.g. \(wrong.prefix(3))")
        #expect(answers > 200, "only \(answers) answers during \(reloads) reloads")
        let reloaded = (try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8))?.components(separatedBy: "\"event\":\"reload\"").count
        print("reload storm: \(reloads) SIGHUPs, \(answers) control answers, reload records in audit.jsonl: \((reloaded ?? 1) - 1)")
    }
}

/// Answers counted by the storm's workers.
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var answers = 0
    private var wrong: [String] = []

    var finished: Bool { lock.withLock { done } }
    var result: (Int, [String]) { lock.withLock { (answers, wrong) } }
    func finish() { lock.withLock { done = true } }

    /// One answer; `problem` says what was wrong with it, nil if nothing.
    func count(_ problem: String?) {
        lock.withLock {
            answers += 1
            if let problem { wrong.append(problem) }
        }
    }
}
