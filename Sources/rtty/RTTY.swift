import ArgumentParser
import RTTYClient
import RTTYCore
import RTTYSystem
import UnixSignals

@main
struct RTTY: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtty",
        abstract: "Attach to an rtty console, or list the consoles you may use.",
        discussion: "Escapes at the start of a line: ~. leave, ~# BREAK, ~? help. `rtty mcp`: serve consoles to an AI agent (rtty mcp --help).",
        version: RTTYVersion.string)

    @Argument(help: "Console name, or the path of a console socket. Omit to list consoles.")
    var console: String?

    @Option(name: .long, help: "Directory of the console sockets (environment: RTTY_SOCKET_DIR).")
    var socketDir: String = ProcessEnvironment.value("RTTY_SOCKET_DIR") ?? "/run/rtty"

    @Flag(name: [.short, .long], help: "Read-only: watch without typing (enforced by the daemon).")
    var readOnly = false

    @Flag(name: .long, help: "Do not print the console's recent output on attach.")
    var noReplay = false

    @Option(name: .long, help: "With piped input: seconds to keep printing after the input ends.")
    var timeout: Double?

    @Flag(name: .long, help: "Recognise ~ escapes in piped input too.")
    var escapes = false

    @Flag(name: .long, help: "List also the consoles you cannot open.")
    var all = false

    @Option(name: .long, help: "Type into several consoles at once: names and globs, comma-separated (pbx,lab*).")
    var broadcast: String?

    @Flag(name: .long, help: "With --broadcast: do not show the consoles' output.")
    var writeOnly = false

    @OptionGroup(title: "Fleet") var fleet: FleetOptions

    func validate() throws {
        if let timeout, !(timeout >= 0 && timeout <= 86_400) {
            throw ValidationError("--timeout must be between 0 and 86400 seconds")
        }
        if let console, console.isEmpty {
            throw ValidationError("the console name is empty")
        }
        if broadcast != nil && console != nil { throw ValidationError("name the consoles in --broadcast, not also as an argument") }
        if writeOnly && broadcast == nil { throw ValidationError("--write-only goes with --broadcast") }
    }

    func run() async throws {
        if let broadcast {
            // Trapped before anything is shown: a signal sent once the banner is out is handled.
            let signals = await UnixSignalsSequence(trapping: .sigterm, .sighup, .sigint)
            let status = Broadcast(socketDir: socketDir, patterns: broadcast.split(separator: ",").map(String.init), writeOnly: writeOnly, escapesOnPipe: escapes, timeout: timeout).run(signals: signals)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let localOnly = [noReplay ? "--no-replay" : nil, timeout != nil ? "--timeout" : nil, escapes ? "--escapes" : nil].compactMap { $0 }
        if let status = await FleetClient.run(console: console, options: fleet, socketDir: socketDir, readOnly: readOnly, localOnly: localOnly) {
            if status != 0 { throw ExitCode(status) }
            return
        }
        guard let console else {
            try list()
            return
        }
        var options = AttachOptions(socketPath: console.contains("/") ? console : socketDir + "/" + console)
        options.readOnly = readOnly
        options.noReplay = noReplay
        options.timeout = timeout
        options.escapesOnPipe = escapes
        options.allowBroadcast = true
        let attachment = Attachment(options)
        // Registered before the session starts (the sequence's init waits for that): a
        // TERM sent once "connected" is shown is handled, never the default death.
        let trapped = await UnixSignalsSequence(trapping: .sigterm, .sighup, .sigint, .sigwinch)
        let signals = Task {
            for await signal in trapped {
                attachment.handle(signal: signal.description.replacingOccurrences(of: "SIG", with: ""))
            }
        }
        var status = await attachment.run()
        signals.cancel()
        if let list = attachment.broadcastList { status = Broadcast.restart(from: console, list, socketDir: socketDir) }
        if status != 0 { throw ExitCode(status) }
    }

    private func list() throws {
        let entries: [ConsoleList.Entry]
        do {
            entries = try ConsoleList.entries(socketDir: socketDir, all: all)
        } catch {
            let why = error.errno == .noSuchFileOrDirectory
                ? "it does not exist; rttyd is not running, or keeps its sockets elsewhere: name that directory with --socket-dir DIR or RTTY_SOCKET_DIR"
                : "\(error.errno)"
            Console.writeError("rtty: cannot list the consoles in \(socketDir): \(why)\n")
            throw ExitCode(ExitStatus.error.rawValue)
        }
        if entries.isEmpty {
            Console.writeError("rtty: no consoles you may use in \(socketDir)\n")
            return
        }
        let width = max(8, entries.map(\.name.count).max() ?? 0)
        for entry in entries {
            print(entry.name.padding(width) + "  " + entry.state.padding(9) + "  " + entry.detail)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
