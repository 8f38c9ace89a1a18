/// The hosts `rtty --fleet` and `rttyctl --fleet` reach over ssh (rtty-fleet(5)):
/// `~/.config/rtty/fleet` or `/etc/rtty/fleet`. One statement a line, words split at spaces
/// and tabs, `#` at the start of a word begins a comment:
///
///     timeout 5                            # seconds a host has to answer (default 5)
///     option ServerAliveInterval=15        # before any group: for every host
///     group lab                            # the hosts below, up to the next group line
///     option ProxyJump=bastion.example.org # for every host of group lab
///     host rack1                           # ssh destination: rack1
///     host rack2 ops@rack2.example.org Port=2222
///
/// Every name and value ends up as one argv word of ssh, never in a shell; a word that
/// could be read as an ssh option (a leading '-') is refused, so is any control character.
public struct Fleet: Sendable, Equatable {
    public static let defaultTimeout = 5.0
    public static let timeoutRange = 0.1...600.0

    public struct Option: Sendable, Equatable {
        public let key: String
        public let value: String
        /// As ssh takes it after `-o`.
        public var word: String { key + "=" + value }
    }

    public struct Host: Sendable, Equatable {
        /// What the fleet calls it: shown in listings, written `NAME:CONSOLE`.
        public let name: String
        /// What ssh connects to: `[user@]host`, the name itself unless given.
        public let destination: String
        public let group: String?
        /// The host's own options, then its group's, then the file's: ssh keeps the first
        /// value it is given for an option, so the most specific one wins.
        public let options: [Option]
        /// The line of its `host` statement, for messages.
        public let line: Int
        /// What `rttyctl --fleet` runs there before `--json REQUEST...`: its group's
        /// `rttyctl` statement, else the file's, else `rttyctl`.
        public let rttyctl: [String]
    }

    public var timeout = Fleet.defaultTimeout
    public var hosts: [Host] = []

    public init() {}

    public func host(named name: String) -> Host? { hosts.first { $0.name == name } }
}

public struct FleetFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { "\(file):\(line): \(message)" }
}

public enum FleetFile {
    public static let maxHosts = 4096
    public static let maxNameLength = 64
    public static let maxWordLength = 1024

    public static func parse(_ text: String, file: String) throws(FleetFileError) -> Fleet {
        var fleet = Fleet()
        var global: [Fleet.Option] = []
        var group: String?
        var groups: Set<String> = []
        var seenTimeout = false
        var pending: [(name: String, destination: String, group: String?, own: [Fleet.Option], line: Int)] = []
        var groupOptions: [String: [Fleet.Option]] = [:]
        var command = ["rttyctl"]
        var groupCommands: [String: [String]] = [:]
        for (index, raw) in TextLines.split(text).enumerated() {
            let number = index + 1
            func fail(_ message: String) -> FleetFileError { FleetFileError(file: file, line: number, message: message) }
            var words: [String] = []
            for word in TextLines.fields(raw) {
                if word.hasPrefix("#") { break }
                if let problem = wordProblem(word) { throw fail(problem) }
                words.append(word)
            }
            guard let keyword = words.first else { continue }
            let rest = Array(words.dropFirst())
            switch keyword {
            case "timeout":
                guard rest.count == 1, let seconds = Double(rest[0]), Fleet.timeoutRange.contains(seconds) else {
                    throw fail("timeout takes one number of seconds, from \(Fleet.timeoutRange.lowerBound) to \(Fleet.timeoutRange.upperBound)")
                }
                guard !seenTimeout else { throw fail("timeout is given twice") }
                seenTimeout = true
                fleet.timeout = seconds
            case "rttyctl":
                guard let first = rest.first, !first.hasPrefix("-") else { throw fail("rttyctl takes the remote command, e.g. rttyctl /usr/local/sbin/rttyctl --control /run/rtty/control") }
                for word in rest where !word.unicodeScalars.allSatisfy(isPlainScalar) {
                    throw fail("the rttyctl word \(word) may hold only ASCII letters, digits and . _ / = : @ + - (the remote shell reads it)")
                }
                if let current = group { groupCommands[current] = rest } else { command = rest }
            case "option":
                guard !rest.isEmpty else { throw fail("option takes one or more KEY=VALUE words (ssh_config(5) options), e.g. option ProxyJump=bastion") }
                var parsed: [Fleet.Option] = []
                for word in rest { parsed.append(try option(word, fail)) }
                if let current = group {
                    groupOptions[current, default: []] += parsed
                } else {
                    guard pending.isEmpty else { throw fail("an option for every host comes before the first host line; put it in a group, or on the host line") }
                    global += parsed
                }
            case "group":
                guard rest.count == 1 else { throw fail("group takes one name, e.g. group lab") }
                if let problem = nameProblem(rest[0], what: "group") { throw fail(problem) }
                guard groups.insert(rest[0]).inserted else { throw fail("group \(rest[0]) is given twice; a group's hosts are the lines after its one group line") }
                group = rest[0]
            case "host":
                guard let name = rest.first else { throw fail("host takes a name, then optionally a destination ([user@]host) and KEY=VALUE ssh options") }
                if let problem = nameProblem(name, what: "host") { throw fail(problem) }
                if let earlier = pending.first(where: { $0.name == name }) { throw fail("host \(name) is already on line \(earlier.line)") }
                guard pending.count < maxHosts else { throw fail("more than \(maxHosts) hosts") }
                var destination = name
                var own: [Fleet.Option] = []
                for (position, word) in rest.dropFirst().enumerated() {
                    if position == 0, !word.contains("=") {
                        if let problem = destinationProblem(word) { throw fail(problem) }
                        destination = word
                    } else {
                        own.append(try option(word, fail))
                    }
                }
                pending.append((name, destination, group, own, number))
            default:
                throw fail("unknown statement \(keyword): a line is `host NAME [DESTINATION] [KEY=VALUE...]`, `group NAME`, `option KEY=VALUE...`, `timeout SECONDS` or `rttyctl COMMAND...`")
            }
        }
        fleet.hosts = pending.map { host in
            let fromGroup = host.group.flatMap { groupOptions[$0] } ?? []
            return Fleet.Host(name: host.name, destination: host.destination, group: host.group, options: host.own + fromGroup + global, line: host.line,
                rttyctl: host.group.flatMap { groupCommands[$0] } ?? command)
        }
        return fleet
    }

    /// A fleet name (host or group): what `NAME:CONSOLE` can carry and a terminal can show.
    public static func nameProblem(_ name: String, what: String = "host") -> String? {
        if name.isEmpty { return "a \(what) name must not be empty" }
        if name.utf8.count > maxNameLength { return "the \(what) name \(name) is longer than \(maxNameLength) bytes" }
        if name.hasPrefix("-") || name.hasPrefix(".") { return "the \(what) name \(name) must not start with '-' or '.'" }
        for scalar in name.unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-"
            if !ok {
                return "the \(what) name \(TerminalText.escaped(name)) may hold only ASCII letters, digits and . _ - (a ':' separates a host from a console in HOST:CONSOLE)"
            }
        }
        return nil
    }

    /// An ssh destination: never read as an option, one argv word.
    public static func destinationProblem(_ word: String) -> String? {
        if word.hasPrefix("-") { return "the destination \(word) must not start with '-' (ssh would read it as an option)" }
        if word.hasSuffix("@") || word.hasPrefix("@") { return "the destination \(word) is not [user@]host" }
        return nil
    }

    private static func option(_ word: String, _ fail: (String) -> FleetFileError) throws(FleetFileError) -> Fleet.Option {
        guard let equals = word.firstIndex(of: "=") else { throw fail("\(word) is not KEY=VALUE (an ssh_config(5) option, e.g. ProxyJump=bastion)") }
        let key = String(word[..<equals])
        let value = String(word[word.index(after: equals)...])
        let keyOK = key.unicodeScalars.first.map { ("A"..."Z").contains($0) || ("a"..."z").contains($0) } == true
            && key.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        guard keyOK else { throw fail("the option name \(key) is not an ssh_config(5) keyword (letters and digits)") }
        guard !value.isEmpty else { throw fail("the option \(key) has no value") }
        return Fleet.Option(key: key, value: value)
    }

    private static func isPlainScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "._/=:@+-".unicodeScalars.contains(scalar)
    }

    /// Words are bounded and printable: nothing a terminal or ssh would read as control.
    private static func wordProblem(_ word: String) -> String? {
        if word.utf8.count > maxWordLength { return "a word is longer than \(maxWordLength) bytes" }
        for scalar in word.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
            return "\(TerminalText.escaped(word)) holds a control character"
        }
        return nil
    }
}

/// `NAME` or `HOST:NAME` as `rtty` takes it with a fleet (rtty(1) FLEET).
public enum FleetTarget: Equatable, Sendable {
    /// A console on whichever host has it.
    case anywhere(console: String)
    case on(host: String, console: String)

    /// `HOST:NAME` when HOST is a host of the fleet (console names may hold ':' too, so a
    /// prefix that names no host leaves the whole word a console name). nil with the
    /// reason when the word can be neither.
    public static func parse(_ word: String, fleet: Fleet) -> Result<FleetTarget, FleetTargetError> {
        if let colon = word.firstIndex(of: ":"), fleet.host(named: String(word[..<colon])) != nil {
            let console = String(word[word.index(after: colon)...])
            if let problem = ConsoleName.problem(console) { return .failure(FleetTargetError(message: "\(TerminalText.escaped(word)): \(problem)")) }
            return .success(.on(host: String(word[..<colon]), console: console))
        }
        if let problem = ConsoleName.problem(word) { return .failure(FleetTargetError(message: "\(TerminalText.escaped(word)): \(problem)")) }
        return .success(.anywhere(console: word))
    }
}

public struct FleetTargetError: Error, Equatable, Sendable {
    public let message: String

    public init(message: String) { self.message = message }
}
