import ArgumentParser
import FoundationEssentials
import RTTYCore
import RTTYFleet
import RTTYSystem
import SystemPackage

/// rtty's fleet options (rtty(1) FLEET, rtty-fleet(5)).
struct FleetOptions: ParsableArguments {
    @Flag(name: .long, help: "Through the fleet only: with no console, list the consoles of every host in the fleet file; with NAME or HOST:NAME, attach on the host that has it.")
    var fleet = false

    @Option(name: .customLong("fleet-file"), help: "The fleet file (default: ~/.config/rtty/fleet, then /etc/rtty/fleet); implies --fleet.")
    var fleetFile: String?

    @Flag(name: .long, help: "With --fleet and no console: one JSON object per host, one a line.")
    var json = false

    /// Asked for by the user, rather than found as a default file.
    var isForced: Bool { fleet || fleetFile != nil }
}

/// `rtty --fleet` and `rtty NAME` through the fleet. Which one a NAME means: with --fleet
/// (or --fleet-file), the fleet only; without, a console of this machine (a socket in the
/// socket directory, or a path) wins, and only a NAME this machine does not have is looked
/// up in the fleet file, if there is one.
enum FleetClient {
    /// nil: not a fleet matter, rtty goes on with the local console. Otherwise the exit status.
    static func run(console: String?, options: FleetOptions, socketDir: String, readOnly: Bool, localOnly: [String]) async -> Int32? {
        if !options.isForced {
            guard let console, !console.contains("/"), !Files.isSocket(socketDir + "/" + console) else { return nil }
        }
        let loaded: (fleet: Fleet, path: String)
        do {
            guard let found = try FleetLocation.load(explicit: options.fleetFile) else {
                guard options.isForced else { return nil }
                return fail("no fleet file: write \(FleetLocation.defaultPaths.joined(separator: " or ")) (rtty-fleet(5)), or name one with --fleet-file FILE", .error)
            }
            loaded = found
        } catch {
            return fail(error.description, .error)
        }
        let ssh = FleetSSH(controlDirectory: FleetSSH.userControlDirectory())
        guard let console else { return await list(loaded.fleet, ssh: ssh, json: options.json) }
        if let option = localOnly.first {
            return fail("\(option) is for a local console; through the fleet rtty-shell takes a console name and -r", .error)
        }
        return await attach(console, loaded, ssh: ssh, readOnly: readOnly)
    }

    private static func fail(_ message: String, _ status: ExitStatus) -> Int32 {
        Console.writeError("rtty: " + message + "\n")
        return status.rawValue
    }

    // MARK: listing

    /// One host's line of `rtty --fleet --json`.
    struct HostListing: Encodable {
        var host: String
        var ok: Bool
        var seconds: Double
        var error: String?
        var user: String?
        var consoles: [ConsoleListing.Entry]?
    }

    /// Every host's listing, decoded; a host that failed has its reason.
    static func listings(_ fleet: Fleet, ssh: FleetSSH) async -> [(answer: FleetQuery.Answer, listing: Result<ConsoleListing, FleetQuery.Failure>)] {
        await FleetQuery.ask(fleet, ssh: ssh, remote: ["list", "--json"]).map { answer in
            (answer, answer.output(timeout: fleet.timeout).flatMap(decode))
        }
    }

    private static func decode(_ bytes: [UInt8]) -> Result<ConsoleListing, FleetQuery.Failure> {
        guard let listing = try? JSONDecoder().decode(ConsoleListing.self, from: Data(bytes)) else {
            return .failure(.init("its answer is not a console listing: \(TerminalText.escaped(bytes.prefix(120)))"))
        }
        guard listing.version <= ConsoleListing.currentVersion else {
            return .failure(.init("its listing is version \(listing.version); this rtty reads \(ConsoleListing.currentVersion)"))
        }
        return .success(listing)
    }

    private static func list(_ fleet: Fleet, ssh: FleetSSH, json: Bool) async -> Int32 {
        let results = await listings(fleet, ssh: ssh)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for (answer, listing) in results {
                var line = HostListing(host: answer.host.name, ok: true, seconds: (answer.seconds * 1000).rounded() / 1000)
                switch listing {
                case .success(let listing): (line.user, line.consoles) = (listing.user, listing.consoles)
                case .failure(let error): (line.ok, line.error) = (false, error.message)
                }
                if let data = try? encoder.encode(line) { print(String(decoding: data, as: UTF8.self)) }
            }
        } else {
            var rows = [["HOST", "CONSOLE", "RIGHTS", "STATE", "CLIENTS", "SETTINGS"]]
            for (answer, listing) in results {
                switch listing {
                case .success(let listing):
                    for entry in listing.consoles {
                        rows.append([answer.host.name, entry.name, entry.rights, entry.state, entry.clients.map(String.init) ?? "-", entry.settings ?? ""].map(TerminalText.escaped))
                    }
                case .failure(let error):
                    rows.append([answer.host.name, "(\(error.message))"])
                }
            }
            print(FleetTable.render(rows), terminator: "")
        }
        let failed = results.filter { if case .failure = $0.listing { true } else { false } }
        return failed.isEmpty ? ExitStatus.left.rawValue : ExitStatus.error.rawValue
    }

    // MARK: attach

    private static func attach(_ word: String, _ loaded: (fleet: Fleet, path: String), ssh: FleetSSH, readOnly: Bool) async -> Int32 {
        let fleet = loaded.fleet
        let host: Fleet.Host
        let console: String
        switch FleetTarget.parse(word, fleet: fleet) {
        case .failure(let error):
            return fail(error.message, .noSuchConsole)
        case .success(.on(let name, let named)):
            guard let found = fleet.host(named: name) else { return fail("no host \(name) in \(loaded.path)", .noSuchConsole) }
            (host, console) = (found, named)
        case .success(.anywhere(let named)):
            let results = await listings(fleet, ssh: ssh)
            let having = results.filter { (try? $0.listing.get())?.consoles.contains { $0.name == named } == true }.map(\.answer.host)
            let silent = results.compactMap { result -> String? in
                guard case .failure(let error) = result.listing else { return nil }
                return "\(result.answer.host.name) (\(error.message))"
            }
            let unheard = silent.isEmpty ? "" : "; not heard from: " + silent.joined(separator: ", ")
            switch having.count {
            case 0:
                return fail("no host of the fleet (\(loaded.path)) has a console \(named) you may use\(unheard); rtty --fleet lists them", .noSuchConsole)
            case 1:
                (host, console) = (having[0], named)
            default:
                let names = having.map(\.name)
                return fail("console \(named) is on \(names.count) hosts: \(names.joined(separator: ", ")); say which, e.g. rtty \(names[0]):\(named)", .error)
            }
        }
        let terminal = Termios.isTerminal(.standardInput)
        let argv = ssh.arguments(for: host, remote: (readOnly ? ["-r"] : []) + [console], terminal: terminal, batch: false, connectTimeout: fleet.timeout)
        let errno = ProgramExec.replace(argv[0], argv)
        return fail("cannot run ssh: \(errno)", .error)
    }
}

/// Columns padded to their widest cell; the last column is not padded.
enum FleetTable {
    static func render(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.compactMap { column < $0.count - 1 ? $0[column].count : nil }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
