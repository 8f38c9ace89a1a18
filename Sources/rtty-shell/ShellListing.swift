import FoundationEssentials
import RTTYClient
import RTTYCore
import RTTYSystem

/// `ssh HOST list` and `ssh HOST list --json` (rtty-shell(8) LISTING): the consoles this
/// user may use, each as rttyd answers a probe on its socket. The daemon decides from the
/// peer's credentials, so a console the shell's ACL reading lists but the daemon refuses
/// is left out; the shell reads no file for this beyond what every login reads.
enum ShellListing {
    /// The whole listing's budget: consoles not probed by then are listed as "no answer",
    /// so a wedged daemon cannot hold an ssh session open for 2 s per console.
    static let budgetSeconds = 10.0

    static func entries(_ consoles: ShellConsoles, socketDir: String) -> [ConsoleListing.Entry] {
        let deadline = WallClock.monotonicSeconds() + budgetSeconds
        return consoles.allowed.compactMap { console in
            let fallback = ConsoleListing.Entry(name: console.name, rights: console.rights.rawValue, state: "no answer")
            guard WallClock.monotonicSeconds() < deadline else { return fallback }
            switch ConsoleProbe.ask(path: socketDir + "/" + console.name) {
            case .answered(let fields):
                guard let rights = fields["rights"], rights == "rw" || rights == "ro" else { return nil }
                return ConsoleListing.Entry(
                    name: console.name, rights: rights, state: fields["state"] ?? "?", clients: fields["clients"].flatMap { Int($0) },
                    policy: fields["policy"], settings: fields["settings"].map { String($0.map { $0 == "," ? " " : $0 }) })
            case .closed(let notice):
                // Refused by the daemon: not this user's to see. Anything else (full) is.
                if let notice, ClosingNotice.exitStatus(after: notice) == .denied { return nil }
                return fallback
            case .unreachable:
                return ConsoleListing.Entry(name: console.name, rights: console.rights.rawValue, state: "no daemon")
            }
        }
    }

    /// The JSON listing: one object, one line, every string escaped by the encoder.
    static func json(_ listing: ConsoleListing) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(listing) else { return "{\"version\":1,\"consoles\":[]}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The listing for a person: one console a line, every field made inert for the terminal.
    static func text(_ listing: ConsoleListing) -> String {
        guard !listing.consoles.isEmpty else { return "No consoles for \(TerminalText.escaped(listing.user)).\n" }
        let rows = listing.consoles.map { entry in
            [entry.name, entry.rights, entry.state, entry.clients.map { "\($0) attached" } ?? "", entry.settings ?? ""].map(TerminalText.escaped)
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<4).map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ") + "  " + row[4]
        }.joined(separator: "\n") + "\n"
    }
}
