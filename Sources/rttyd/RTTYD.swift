import ArgumentParser
import Logging
import RTTYCore
import RTTYDaemon
import RTTYSystem
import ServiceLifecycle

@main
struct RTTYD: AsyncParsableCommand {
    /// Argument parsing and `run`, after `Signals.unblockTermination`.
    static func main() async {
        Signals.unblockTermination()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "rttyd",
        abstract: "The rtty console server: keeps consoles open, logs them, serves them on Unix sockets.",
        version: RTTYVersion.string)

    @Option(name: .long, help: "Configuration file.")
    var config: String = "/etc/rtty/rtty.conf"

    @Flag(name: .long, help: "Check the configuration file, print what it defines, and exit.")
    var checkConfig = false

    @Flag(name: .long, help: "Run a demo daemon with two consoles that need no hardware.")
    var demo = false

    @Option(name: .long, help: "State directory of the demo (config, sockets, logs).")
    var stateDir: String = ".rtty-demo"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(name: .long, help: .hidden)
    var guestSimulator = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level \"\(logLevel)\"; use one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        if guestSimulator { GuestSimulator.run() }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "rttyd")
        let path = demo ? try DemoSetup.prepare(stateDir: stateDir) : config
        let parsed: Config
        do {
            parsed = try Daemon.loadConfig(path)
        } catch {
            printError("rttyd: \(error)")
            throw ExitCode(2)
        }
        if checkConfig {
            print("\(path): OK, \(parsed.consoles.count) consoles")
            for console in parsed.consoles {
                let triggers = console.triggers.isEmpty ? "" : ", triggers " + console.triggers.map(\.name).joined(separator: " ")
                print("  \(console.name): \(console.source.kind) \(console.source.describe) \(console.settings.short) group \(console.group)\(triggers)")
            }
            return
        }
        if demo { DemoSetup.announce(parsed) }
        let openFiles = ProcessIdentity.raiseOpenFileLimit()
        if openFiles < 2 * parsed.consoles.count + 64 {
            logger.warning("open file limit \(openFiles) is low for \(parsed.consoles.count) consoles (each holds a device and a socket, each client one more); raise LimitNOFILE / ulimit -n")
        }
        let daemon = Daemon(configPath: path, config: parsed, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: daemon)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            printError("rttyd: \(error)")
            throw ExitCode(1)
        }
    }
}

enum DemoSetup {
    static func prepare(stateDir: String) throws -> String {
        let dir = absolute(stateDir)
        try Files.makeDirectory(dir, mode: 0o755)
        let path = dir + "/rtty.conf"
        let executable = ProcessIdentity.executablePath() ?? CommandLine.arguments[0]
        let group = Accounts.groupName(ProcessIdentity.effectiveGID) ?? "\(ProcessIdentity.effectiveGID)"
        try TextFile.write(path, Demo.config(stateDir: dir, executable: executable, group: group))
        let access = dir + "/access"
        if !Files.exists(access) {
            try TextFile.write(access, "# who  consoles  rights   (rtty.access(5); the first matching line decides)\n\(Accounts.currentUserName())  *  rw\n")
        }
        return path
    }

    static func announce(_ config: Config) {
        let client = (ProcessIdentity.executablePath() ?? "rtty").replacingLastComponent(with: "rtty")
        print("""
            rttyd demo: consoles \(config.consoles.map(\.name).joined(separator: ", ")) in \(config.paths.socketDir)
            attach from another terminal with:
              \(client) --socket-dir \(config.paths.socketDir) demo
              \(client) --socket-dir \(config.paths.socketDir) shell
            or set these, and rtty, rtty demo and rttyctl status find this daemon:
              export RTTY_SOCKET_DIR=\(config.paths.socketDir) RTTY_CONTROL=\(config.paths.control)
            (~? for help, ~. to leave; Ctrl-C here stops the daemon)
            """)
        Console.flushAll()
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : Console.currentDirectory() + "/" + path
    }
}

extension String {
    func replacingLastComponent(with name: String) -> String {
        guard let slash = lastIndex(of: "/") else { return name }
        return String(self[...slash]) + name
    }
}

func printError(_ text: String) {
    Console.writeError(text + "\n")
}
