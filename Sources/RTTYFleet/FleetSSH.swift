import RTTYCore
import RTTYSystem

/// How the fleet's hosts are reached: every hop is the user's own ssh, with the user's
/// keys, agent and ~/.ssh/config, run with an argv (never through a local shell). One ssh
/// connection per host is kept open for a while (ControlMaster with ControlPersist) in a
/// directory of the user's own, so a second listing, or an attach right after one, does not
/// log in again.
public struct FleetSSH: Sendable {
    /// How long an idle master connection stays up.
    public static let persistSeconds = 600

    /// The directory of the master connections' sockets; nil: no connection sharing.
    public let controlDirectory: String?

    public init(controlDirectory: String?) {
        self.controlDirectory = controlDirectory
    }

    /// `$XDG_RUNTIME_DIR/rtty-ssh` (a per-login tmpfs, 0700), else `~/.cache/rtty/ssh`,
    /// made 0700; nil (no sharing, still working) when neither can be made.
    public static func userControlDirectory() -> String? {
        let candidates = [ProcessEnvironment.value("XDG_RUNTIME_DIR").map { $0 + "/rtty-ssh" }, ProcessEnvironment.value("HOME").map { $0 + "/.cache/rtty/ssh" }]
        for case let directory? in candidates where directory.hasPrefix("/") {
            if (try? Files.makeDirectory(directory, mode: 0o700)) != nil { return directory }
        }
        return nil
    }

    /// ssh's words for one host: its options (host, group, file: ssh keeps the first value
    /// of an option, so the most specific wins, and the fleet file can turn sharing off),
    /// then rtty's own, then `--`, the destination and the remote words. `--` and the
    /// fleet file's rule (no destination starts with '-') keep every name out of ssh's
    /// options; the remote words are console names or fixed words, which the remote
    /// login shell (rtty-shell, or an admin's shell) reads as plain words.
    public func arguments(for host: Fleet.Host, remote: [String], terminal: Bool, batch: Bool, connectTimeout: Double?) -> [String] {
        var words = ["ssh"]
        for option in host.options { words += ["-o", option.word] }
        if let controlDirectory {
            words += ["-o", "ControlMaster=auto", "-o", "ControlPath=\(controlDirectory)/%C", "-o", "ControlPersist=\(Self.persistSeconds)"]
        }
        if batch { words += ["-o", "BatchMode=yes"] }
        if let connectTimeout { words += ["-o", "ConnectTimeout=\(max(1, Int(connectTimeout.rounded(.up))))"] }
        // `-e none`: the console's ~ escapes reach rtty-shell, as with a local console.
        words += [terminal ? "-t" : "-T", "-e", "none", "--", host.destination] + remote
        return words
    }
}

/// Finding and reading the fleet file (rtty-fleet(5)).
public enum FleetLocation {
    public static let systemPath = "/etc/rtty/fleet"

    /// `$XDG_CONFIG_HOME/rtty/fleet` (default `~/.config/rtty/fleet`), then /etc/rtty/fleet.
    public static var defaultPaths: [String] {
        let config = ProcessEnvironment.value("XDG_CONFIG_HOME") ?? ProcessEnvironment.value("HOME").map { $0 + "/.config" }
        return (config.map { [$0 + "/rtty/fleet"] } ?? []) + [systemPath]
    }

    /// The fleet from `explicit`, or from the first default file that exists; nil when no
    /// file exists and none was named. Errors name the file (and line).
    public static func load(explicit: String?) throws(FleetLoadError) -> (fleet: Fleet, path: String)? {
        let paths = explicit.map { [$0] } ?? defaultPaths
        for path in paths {
            let text: String
            do {
                text = try OwnConfigFile.read(path)
            } catch {
                if explicit == nil && error.errno == .noSuchFileOrDirectory { continue }
                throw FleetLoadError(description: "cannot use the fleet file \(error)")
            }
            let fleet: Fleet
            do {
                fleet = try FleetFile.parse(text, file: path)
            } catch {
                throw FleetLoadError(description: error.description)
            }
            guard !fleet.hosts.isEmpty else { throw FleetLoadError(description: "\(path): names no host (a line is `host NAME [DESTINATION] [KEY=VALUE...]`)") }
            return (fleet, path)
        }
        return nil
    }
}

public struct FleetLoadError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
