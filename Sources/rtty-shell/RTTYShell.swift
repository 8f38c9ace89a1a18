import RTTYAuth
import RTTYClient
import RTTYCore
import RTTYSystem
import UnixSignals

/// The login shell of console users (rtty-shell(8)). No ArgumentParser here: sshd decides
/// the arguments (`-rtty-shell`, or `rtty-shell -c COMMAND`), and anything else is refused.
@main
struct RTTYShell {
    static func main() async {
        Signals.unblockTermination()
        let environment = ShellEnvironment()
        let files = ShellFiles()
        let command = environment["SSH_ORIGINAL_COMMAND"] ?? Self.commandArgument
        let config: Config
        do {
            config = try files.loadConfig(environment)
        } catch {
            misconfigured(error)
        }
        func refuse(_ event: ShellReportRequest.Event, _ message: String, status: ExitStatus) -> Never {
            ShellReport.send(event, config: config, environment: environment, command: command, message: message)
            fail(message, status: status)
        }
        let requested: String?
        var readOnly = false
        var listing: (json: Bool, wanted: Bool) = (false, false)
        switch ShellRequest.parse(arguments: CommandLine.arguments, originalCommand: environment["SSH_ORIGINAL_COMMAND"]) {
        case .refused(let message):
            refuse(.refused, message, status: .error)
        case .console(let name, let ro):
            requested = name
            readOnly = ro
        case .list(let json):
            requested = "list"  // a console of that name, if the user may use one and asked `list` alone
            listing = (json, true)
        }
        let user = Accounts.currentUserName()
        do {
            try PAMLogin.run(
                serviceDirectory: files.pamServiceDirectory(config),
                user: user, tty: environment["SSH_TTY"], remoteHost: environment.remoteHost,
                conversation: TerminalConversation())
        } catch {
            refuse(.loginFailed, "rtty-shell: login refused: \(error.message)", status: .denied)
        }
        let aclText: String
        do {
            aclText = try files.readACL(config)
        } catch {
            misconfigured(error)
        }
        let consoles = ShellConsoles(config: config, aclText: aclText, user: user)
        if listing.wanted, listing.json || consoles.rights(of: "list") == .none {
            let answer = ConsoleListing(user: user, consoles: ShellListing.entries(consoles, socketDir: config.paths.socketDir))
            Console.write(listing.json ? ShellListing.json(answer) : ShellListing.text(answer))
            Console.exit(ExitStatus.left.rawValue)
        }
        var choice = ConsoleChoice.decide(requested: requested, allowed: consoles.allowed.map(\.name), user: user)
        if case .menu(let names) = choice {
            choice = Menu.ask(names, consoles: consoles)
            if case .refuse(let message) = choice { fail(message, status: .left) }
        }
        guard case .attach(let name) = choice else {
            // Denied and "no such console" are one answer: an ssh user learns no names.
            if case .refuse(let message) = choice { refuse(.refused, message, status: .denied) }
            fail("rtty-shell: no console chosen")
        }
        if consoles.rights(of: name) == .ro { readOnly = true }
        var options = AttachOptions(socketPath: config.paths.socketDir + "/" + name)
        options.readOnly = readOnly
        options.escapesOnPipe = false
        // Without a pty (`ssh host pbx < file`): send the input, then print what the
        // console answers for a moment after it ends, then leave.
        options.timeout = 2
        options.metadata = environment.metadata
        options.client = .shell
        let attachment = Attachment(options)
        // Registered before the session starts: sshd's HUP at a disconnect is handled (the
        // session ends on record), never the default death.
        let trapped = await UnixSignalsSequence(trapping: .sigterm, .sighup, .sigint, .sigwinch)
        let signals = Task {
            for await signal in trapped {
                attachment.handle(signal: String(signal.description.dropFirst(3)))
            }
        }
        let status = await attachment.run()
        signals.cancel()
        Console.exit(status)
    }

    /// The COMMAND of `rtty-shell -c COMMAND`, if that is how sshd started it.
    static var commandArgument: String? {
        let arguments = CommandLine.arguments
        return arguments.count >= 3 && arguments[1] == "-c" ? arguments[2] : nil
    }

    /// A config or ACL that cannot be read (or, set-id, trusted): the error names the file
    /// and what is wrong; only an admin can fix it.
    static func misconfigured(_ error: some Error) -> Never {
        fail("rtty-shell: the console service is misconfigured (\(error)); tell an admin")
    }

    static func fail(_ message: String, status: ExitStatus = .error) -> Never {
        Console.writeError(message + "\n")
        Console.exit(status.rawValue)
    }
}
