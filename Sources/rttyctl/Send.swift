import ArgumentParser
import RTTYCore
import RTTYSession
import RTTYSystem

/// `send` and `expect` open the console socket as the user who runs them, not the control
/// socket: each is an ordinary session of that user, with that user's rights, audited and
/// recorded as any attach is. Exit statuses for scripts: 0 done (or matched), 1 timed out,
/// 2 anything else (refused, no such console, the console closed, a bad pattern).
struct ConsoleOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of the console sockets (environment: RTTY_SOCKET_DIR).")
    var socketDir: String = ProcessEnvironment.value("RTTY_SOCKET_DIR") ?? "/run/rtty"

    func session(_ console: String, label: String, replay: Bool = false) throws -> ConsoleSession {
        var options = SessionOptions(socketPath: console.contains("/") ? console : socketDir + "/" + console)
        options.client = .rttyctl
        options.label = label
        options.replay = replay
        do {
            return try ConsoleSession(options)
        } catch {
            throw ScriptFailure(error.description)
        }
    }
}

/// A failure of `send` or `expect`: message to stderr, exit 2.
struct ScriptFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }

    static let status: Int32 = 2

    /// Runs `body`; a failure is printed and becomes exit status 2.
    static func running(_ command: String, _ body: () throws -> Int32) throws {
        let status: Int32
        do {
            status = try body()
        } catch let failure as ScriptFailure {
            Console.writeError("rttyctl \(command): \(failure.message)\n")
            status = Self.status
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The text argument with its escapes decoded, or the failure that names the escape.
    static func decoded(_ text: String) throws -> [UInt8] {
        do {
            return try ScriptText.decode(text)
        } catch {
            throw ScriptFailure("\(error)")
        }
    }

    /// Input on a session: refused unless the session may write, then sent and settled; a
    /// refusal the daemon sends back (write lock, device down) is a failure too.
    static func type(_ bytes: [UInt8], breakFirst: Bool, into session: ConsoleSession) throws {
        guard session.mayWrite else {
            throw ScriptFailure("console \(session.console): your session is read-only (the ACL grants you ro); nothing was sent")
        }
        do {
            if breakFirst { try session.sendBreak() }
            if !bytes.isEmpty { try session.send(bytes) }
            for event in try session.settle() {
                if case .refused(let why) = event { throw ScriptFailure("console \(session.console): rttyd refused: \(TerminalText.escaped(why))") }
            }
        } catch let failure as ConsoleSession.Failure {
            throw ScriptFailure(failure.description)
        }
    }
}

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Type text into a console as yourself: an audited session of your own.",
        discussion: "TEXT takes C escapes: \\r \\n \\t \\e \\\\ \\xHH \\NNN (\\x03 is Ctrl-C). Nothing is added: end a line with \\r.")
    @OptionGroup var consoleOptions: ConsoleOptions
    @Argument(help: "Console name, or the path of a console socket.") var console: String
    @Argument(help: "Text to type (C escapes).") var text: String?
    @Flag(name: .customLong("break"), help: "Send a BREAK (before the text, if any).") var sendBreak = false

    func validate() throws {
        if text == nil && !sendBreak { throw ValidationError("give TEXT to send, or --break") }
    }

    func run() throws {
        try ScriptFailure.running("send") {
            let bytes = try ScriptFailure.decoded(text ?? "")
            let session = try consoleOptions.session(console, label: "rttyctl-send")
            defer { session.close() }
            try ScriptFailure.type(bytes, breakFirst: sendBreak, into: session)
            return 0
        }
    }
}

struct Expect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wait for console output matching a pattern; exit 0 matched, 1 timed out, 2 error.",
        discussion: """
            PATTERN is a regular expression (Swift Regex syntax), matched against output that \
            arrives after the session starts, with terminal escape sequences taken out. \
            --send types TEXT once the session is on, so the answer to it cannot be missed: \
            rttyctl expect lab1 'login: ' --send '\\r'; rttyctl expect lab1 '# ' --send 'root\\r'.
            """)
    @OptionGroup var consoleOptions: ConsoleOptions
    @Argument(help: "Console name, or the path of a console socket.") var console: String
    @Argument(help: "Regular expression to wait for.") var pattern: String
    @Option(name: .long, help: "Seconds to wait (default 30).") var timeout: Double = 30
    @Option(name: .long, help: "Text to type first (C escapes), once the session is on.") var send: String?
    @Flag(name: .long, help: "Match the console's recent output (its replay) too.") var recent = false

    func validate() throws {
        guard timeout > 0 && timeout <= 86_400 else { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
    }

    func run() throws {
        try ScriptFailure.running("expect") {
            var matcher: OutputMatcher
            do {
                matcher = try OutputMatcher(pattern: pattern)
            } catch {
                throw ScriptFailure("\(error)")
            }
            let bytes = try send.map(ScriptFailure.decoded)
            let session = try consoleOptions.session(console, label: "rttyctl-expect", replay: recent)
            defer { session.close() }
            // Everything this session received counts: live output from its start (and the
            // replay, with --recent), kept while the text goes out, so no answer is missed.
            if let bytes { try ScriptFailure.type(bytes, breakFirst: false, into: session) }
            var offset = 0
            switch session.wait(for: &matcher, from: &offset, timeout: timeout) {
            case .matched(let matched):
                print(TerminalText.escaped(matched))
                return 0
            case .closed:
                throw ScriptFailure("console \(session.console) closed before \(TerminalText.escaped(pattern)) matched: \(TerminalText.escaped(session.closingNotice ?? "connection closed by rttyd"))")
            case .timedOut:
                Console.writeError("rttyctl expect: no output matched \(TerminalText.escaped(pattern)) on console \(session.console) within \(timeout) s; last output: \"\(TerminalText.escaped(matcher.recentText))\"\n")
                return 1
            }
        }
    }
}
