import ArgumentParser
import RTTYClient
import RTTYCore
import RTTYSession
import RTTYSystem
import SystemPackage
import UnixSignals

/// `rtty --broadcast pbx,util,lab*`: what the user types goes to every named console the
/// user may write to (ConMan's -b). Each console is an ordinary session of the user, so the
/// daemon checks the rights of each and each console's audit shows the session; a console
/// the user may only read, or not open at all, is reported and left out. Output of each is
/// shown with its name at line starts (made inert for the terminal), or not at all with
/// --write-only. `~.` ends all, `~#` sends BREAK to all.
///
/// No console holds up the others. Input is queued per console and sent as each socket
/// takes it; while a console has more than `highWater` bytes waiting, no more input is
/// read (a slow line paces a paste, and nothing is dropped); a console that has taken
/// nothing for `stallSeconds` while input waits for it (its device takes no input) is left
/// out, said so, and the others go on.
struct Broadcast {
    static let highWater = 64 << 10
    static let stallSeconds = 10.0

    let socketDir: String
    let patterns: [String]
    let writeOnly: Bool
    let escapesOnPipe: Bool
    /// With piped input: seconds to keep showing output after the input ends.
    let timeout: Double?

    /// `~b LIST` in a session on `console`: rtty starts again as `rtty --broadcast
    /// console,LIST`, so that nothing of the session (its event loop, the thread that may
    /// be reading the keyboard) is left to take keys from the broadcast. Returns only if
    /// that failed.
    static func restart(from console: String, _ list: String, socketDir: String) -> Int32 {
        guard let rtty = ProcessIdentity.executablePath() else {
            Console.writeError("rtty: ~b: cannot find rtty's own path; run rtty --broadcast \(console),\(list)\n")
            return ExitStatus.error.rawValue
        }
        let failure = ProcessIdentity.replace(with: rtty, ["--socket-dir", socketDir, "--broadcast", console + "," + list])
        Console.writeError("rtty: ~b: cannot start \(rtty): \(failure)\n")
        return ExitStatus.error.rawValue
    }

    private final class Member {
        let session: ConsoleSession
        var filter = TerminalFilter()
        /// Output shown so far: output is shown from the session's window, which also holds
        /// what arrived while the session was opened or settled.
        var shown = 0
        /// When the console last took input, or had none waiting.
        var lastTaken = WallClock.monotonicSeconds()
        init(_ session: ConsoleSession) { self.session = session }

        /// Queues input and sends what the socket takes now.
        func type(_ bytes: [UInt8]) { queued { session.queue(bytes) } }

        func sendBreak() { queued { session.queueBreak() } }

        private func queued(_ queue: () -> Void) {
            if session.unsent.isEmpty { lastTaken = WallClock.monotonicSeconds() }
            queue()
            sendQueued()
        }

        /// Sends what its socket takes now. A failed write is left to the read side: the
        /// socket reads as closed next, and that is reported with rttyd's reason.
        func sendQueued() {
            guard let taken = try? session.sendQueued() else { return }
            if taken > 0 || session.unsent.isEmpty { lastTaken = WallClock.monotonicSeconds() }
        }

        var stalled: Bool { !session.unsent.isEmpty && WallClock.monotonicSeconds() - lastTaken >= Broadcast.stallSeconds }

        func unshown() -> [UInt8] {
            let slice = session.output.read(from: shown, limit: session.output.capacity)
            shown = slice.next
            return filter.feed(slice.bytes)
        }
    }

    /// The consoles the patterns name, in the order given (each once); a pattern that
    /// matches nothing is reported.
    func consoles() -> [String] {
        let visible = (try? ConsoleList.names(socketDir: socketDir)) ?? []
        var names: [String] = []
        for pattern in patterns {
            let matched = pattern.contains("/") ? [pattern] : visible.filter { Glob.matches(pattern, $0) }
            if matched.isEmpty { say("rtty: --broadcast: no console \(TerminalText.escaped(pattern)) in \(socketDir)") }
            for name in matched where !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// `signals`: TERM, HUP and INT, trapped by the caller before anything is shown.
    func run(signals trapped: UnixSignalsSequence) -> Int32 {
        var members: [Member] = []
        for name in consoles() {
            var options = SessionOptions(socketPath: name.contains("/") ? name : socketDir + "/" + name)
            options.label = "broadcast"
            do {
                let session = try ConsoleSession(options)
                guard session.mayWrite else {
                    say("rtty: console \(TerminalText.escaped(session.console)): your grant is read-only; left out of the broadcast")
                    session.close()
                    continue
                }
                members.append(Member(session))
            } catch {
                say("\(error.description); left out of the broadcast")
            }
        }
        guard !members.isEmpty else {
            say("rtty: --broadcast: no console to type into")
            return ExitStatus.error.rawValue
        }
        let interactive = Termios.isTerminal(.standardInput)
        var escapes = EscapeMachine(restricted: false)
        let useEscapes = interactive || escapesOnPipe
        let saved = interactive ? try? Termios.makeRaw(.standardInput) : nil
        defer { if let saved { Termios.restore(saved) } }
        // TERM, HUP and INT leave as in a single session, the terminal given back first
        // (the loop below blocks this thread, so a task of its own waits for them).
        let signals = Task.detached {
            for await signal in trapped {
                if let saved { Termios.restore(saved) }
                Console.writeError("\r\n[rtty: \(signal), leaving]\r\n")
                RTTY.exit(withError: ExitCode(signal == .sighup ? 0 : 1))
            }
        }
        defer { signals.cancel() }
        let lineEnd = saved == nil ? "\n" : "\r\n"
        var screen = PrefixedOutput()
        func message(_ text: String) {
            write(screen.interrupt() + Array((text.replacingNewlines(with: lineEnd) + lineEnd).utf8), to: .standardError)
        }
        message("[broadcast to \(members.map { TerminalText.escaped($0.session.console) }.joined(separator: ", ")); ~. ends all, ~? help]")
        var status = ExitStatus.left.rawValue
        var chunk = [UInt8](repeating: 0, count: 16_384)
        var inputEnded: Double?
        while !members.isEmpty {
            if let inputEnded, WallClock.monotonicSeconds() - inputEnded >= (timeout ?? 0) { break }
            for member in members where member.stalled {
                message("[\(TerminalText.escaped(member.session.console)): took no input for \(Int(Self.stallSeconds)) s; left out of the broadcast]")
                member.session.close()
                status = ExitStatus.error.rawValue
            }
            members.removeAll { $0.session.isClosed }
            // Input is read only while every console keeps up (below the high-water mark).
            let reading = inputEnded == nil && members.allSatisfy { $0.session.unsent.count <= Self.highWater }
            let ready = Poll.wait(
                (reading ? [(FileDescriptor.standardInput, false)] : []) + members.map { ($0.session.descriptor, !$0.session.unsent.isEmpty) },
                timeoutMilliseconds: inputEnded == nil ? 1000 : 50)
            let sessionsReady = reading ? Array(ready.dropFirst()) : ready
            for (member, isReady) in zip(members, sessionsReady) {
                if isReady.writable { member.sendQueued() }
                guard isReady.readable else { continue }
                for event in member.session.receive() {
                    let name = TerminalText.escaped(member.session.console)
                    switch event {
                    case .output where !writeOnly:
                        write(screen.feed(member.session.console, member.unshown()), to: .standardOutput)
                    case .notice(let text), .refused(let text):
                        message("[\(name): \(TerminalText.escaped(text))]")
                    case .closed:
                        message("[\(name): \(TerminalText.escaped(member.session.closingNotice ?? "connection closed by rttyd"))]")
                    default:
                        break
                    }
                }
            }
            members.removeAll { $0.session.isClosed }
            guard reading, ready.first?.readable == true else { continue }
            let n = (try? chunk.withUnsafeMutableBytes { try FileDescriptor.standardInput.read(into: $0) }) ?? 0
            guard n > 0 else {
                // Piped input ended: done once every console has taken it (and --timeout
                // has passed).
                for member in members {
                    do {
                        for case .refused(let why) in try member.session.settle() {
                            message("[\(TerminalText.escaped(member.session.console)): \(TerminalText.escaped(why))]")
                            status = ExitStatus.error.rawValue
                        }
                    } catch {
                        message(error.description)
                        status = ExitStatus.error.rawValue
                    }
                }
                if !writeOnly {
                    for member in members { write(screen.feed(member.session.console, member.unshown()), to: .standardOutput) }
                }
                inputEnded = WallClock.monotonicSeconds()
                continue
            }
            let typed = Array(chunk.prefix(n))
            for action in useEscapes ? escapes.feed(typed) : [.send(typed)] {
                switch action {
                case .send(let bytes): members.forEach { $0.type(bytes) }
                case .sendBreak: members.forEach { $0.sendBreak() }
                case .quit:
                    message("[leaving all]")
                    members.forEach { $0.session.close() }
                    members = []
                case .help: message(EscapeMachine.helpText + "\n  (broadcast: ~. and ~# act on every console; other escapes are for one console)")
                case .echo(let text): write(Array(text.utf8), to: .standardError)
                case .refused(let why): message("[\(why)]")
                default: message("[that escape works on one console, not in a broadcast]")
                }
            }
        }
        for member in members { member.session.close() }
        return status
    }

    private func say(_ text: String) { Console.writeError(text + "\n") }

    private func write(_ bytes: [UInt8], to fd: FileDescriptor) {
        _ = try? bytes.withUnsafeBytes { try fd.writeAll($0) }
    }
}
