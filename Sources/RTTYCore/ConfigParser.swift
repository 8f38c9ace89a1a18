
/// A config problem, named by file, line (where it can be found) and key.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// "rtty.conf:12: console.pbx.baud: expected ..."
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        if let key { text += ": \(key)" }
        return text + ": " + message
    }
}

/// Reads rtty.conf (TOML) into a checked `Config`; any problem is an error, so a bad file
/// never yields a half-configured daemon.
public enum ConfigParser {
    static let pathKeys = ["socket_dir", "control", "log_dir", "audit_log", "session_dir", "access", "pid_file", "pam_service_dir", "syslog_socket", "journal_socket"]
    static let settingKeys = [
        "baud", "data_bits", "parity", "stop_bits", "flow", "replay_bytes", "timestamps", "log", "transcript",
        "log_max_bytes", "log_keep", "write_policy", "client_queue_bytes", "max_clients", "max_clients_per_user", "group",
        "record_keep_bytes", "transcript_keep_bytes", "transcript_max_bytes",
    ]
    static let sourceKeys = ["device", "exec", "unix", "rows", "cols"]
    static let controlKeys = ["admin_group", "audit_syslog", "metrics"]
    static let tcpKeys = ["tcp", "tcp_mode", "tcp_allow_remote", "tcp_allow", "tcp_rights"]

    public static func parse(_ text: String, file: String) throws(ConfigError) -> Config {
        // A byte order mark an editor put at the start is no part of the TOML.
        var text = text
        if text.unicodeScalars.first == TextLines.byteOrderMark { text.unicodeScalars.removeFirst() }
        try TOMLPrecheck.check(text, file: file)
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch {
            throw ConfigError(file: file, line: error.line, key: nil, message: "TOML syntax: \(error.description)")
        }
        var reader = Reader(file: file, keyLines: TOMLKeyLines(text))
        return try reader.read(root)
    }

    /// The line of a dotted key of bare names (`paths.control`) in a config's text, for
    /// checks made after parsing (ConfigConflicts); nil when the file does not name it.
    public static func line(of key: String, in text: String) -> Int? {
        TOMLKeyLines(text).line(of: TOMLKeyPath(stringLiteral: key))
    }

    /// The line of console NAME's table (however its header is spelled), or of `key` in it.
    public static func line(console name: String, key: String? = nil, in text: String) -> Int? {
        TOMLKeyLines(text).line(of: TOMLKeyPath(["console", name] + (key.map { [$0] } ?? [])))
    }

    struct Reader {
        let file: String
        /// Where each key is in the file, found once (a 1,000-console file is read in
        /// milliseconds, not by scanning the text per lookup).
        let keyLines: TOMLKeyLines

        func fail(_ key: TOMLKeyPath, _ message: String) -> ConfigError {
            ConfigError(file: file, line: keyLines.line(of: key), key: key.description, message: message)
        }

        mutating func read(_ root: TOMLTable) throws(ConfigError) -> Config {
            var config = Config()
            for key in root.keys where !["paths", "defaults", "console", "control"].contains(key) {
                throw fail(TOMLKeyPath([key]), "unknown table or key; expected [paths], [defaults], [control] or [console.NAME]")
            }
            if let control = root["control"] {
                guard let table = control.table else { throw fail("control", "expected a table") }
                for key in table.keys where !ConfigParser.controlKeys.contains(key) {
                    throw fail("control" + key, "unknown key; expected one of \(ConfigParser.controlKeys.joined(separator: ", "))")
                }
                try readObservation(table, into: &config)
                if let group = table["admin_group"] {
                    guard let name = group.string, !name.isEmpty, !name.contains(where: { $0 == ":" || $0 == " " || $0 == "/" }) else {
                        throw fail("control.admin_group", "expected a group name such as \"rtty-admin\"")
                    }
                    config.adminGroup = name
                }
            }
            if let paths = root["paths"] {
                guard let table = paths.table else { throw fail("paths", "expected a table") }
                config.paths = try readPaths(table)
            }
            if let defaults = root["defaults"] {
                guard let table = defaults.table else { throw fail("defaults", "expected a table") }
                for key in table.keys where !ConfigParser.settingKeys.contains(key) && key != "trigger" {
                    throw fail("defaults" + key, "unknown key; expected one of \(ConfigParser.settingKeys.joined(separator: ", ")), or [[defaults.trigger]] tables")
                }
                var template = Config.Console(name: "", source: .device(path: "/"), defaults: config.defaults)
                try applySettings(table, prefix: "defaults", to: &template)
                template.triggers = try readTriggers(table, "defaults")
                config.defaults = Config.Defaults(from: template)
            }
            if let consoles = root["console"] {
                guard let table = consoles.table else { throw fail("console", "expected tables [console.NAME]") }
                config.consoles = try readConsoles(table, defaults: config.defaults)
            }
            for index in config.consoles.indices { config.consoles[index].adminGroup = config.adminGroup }
            return config
        }

        private func readPaths(_ table: TOMLTable) throws(ConfigError) -> Config.Paths {
            var paths = Config.Paths()
            for key in table.keys {
                guard ConfigParser.pathKeys.contains(key) else {
                    throw fail("paths" + key, "unknown key; expected one of \(ConfigParser.pathKeys.joined(separator: ", "))")
                }
                let value = try absolutePath(table[key]!, "paths" + key)
                switch key {
                case "socket_dir": paths.socketDir = value
                case "control": paths.control = value
                case "log_dir": paths.logDir = value
                case "audit_log": paths.auditLog = value
                case "session_dir": paths.sessionDir = value
                case "access": paths.access = value
                case "pam_service_dir": paths.pamServiceDir = value
                case "syslog_socket": paths.syslogSocket = value
                case "journal_socket": paths.journalSocket = value
                default: paths.pidFile = value
                }
            }
            try checkAuditSockets(paths)
            return paths
        }

        private func readConsoles(_ table: TOMLTable, defaults: Config.Defaults) throws(ConfigError) -> [Config.Console] {
            // toml++ keeps keys sorted, not in file order: order by where each console first appears.
            func place(_ name: String) -> (Int, String) { (keyLines.line(of: TOMLKeyPath(["console", name])) ?? 0, name) }
            let names = table.keys.sorted { place($0) < place($1) }
            var consoles: [Config.Console] = []
            var sources: [String: String] = [:]
            var ports: [String: String] = [:]
            for name in names {
                let key = TOMLKeyPath(["console", name])
                if let problem = ConsoleName.problem(name) { throw fail(key, problem) }
                guard let body = table[name]?.table else { throw fail(key, "expected a table [\(key)]") }
                for k in body.keys where !(ConfigParser.sourceKeys + ConfigParser.tcpKeys + ConfigParser.settingKeys + ["trigger"]).contains(k) {
                    throw fail(key + k, "unknown key; expected device, exec or unix, rows, cols, tcp keys (\(ConfigParser.tcpKeys.joined(separator: ", "))), [[\(key).trigger]] tables, or one of \(ConfigParser.settingKeys.joined(separator: ", "))")
                }
                let source = try readSource(body, key)
                if case .exec = source {} else {
                    let path = source.describe
                    if let other = sources[path] { throw fail(key, "uses \(path) like console \(other); a device or socket serves one console") }
                    sources[path] = name
                }
                var console = Config.Console(name: name, source: source, defaults: defaults)
                try applySettings(body, prefix: key, to: &console)
                console.tcp = try readTCP(body, key)
                console.triggers = try readTriggers(body, key, after: defaults.triggers)
                if let tcp = console.tcp {
                    if let other = ports[tcp.address] { throw fail(key + "tcp", "\(tcp.address) is already the port of console \(other)") }
                    ports[tcp.address] = name
                }
                consoles.append(console)
            }
            return consoles
        }

        /// The tcp keys of a console; a non-loopback address needs tcp_allow_remote = true.
        private func readTCP(_ body: TOMLTable, _ key: TOMLKeyPath) throws(ConfigError) -> Config.TCPAccess? {
            guard let value = body["tcp"] else {
                if let stray = ConfigParser.tcpKeys.dropFirst().first(where: { body[$0] != nil }) {
                    throw fail(key + stray, "applies only with tcp = \"HOST:PORT\"")
                }
                return nil
            }
            let (host, port) = try hostAndPort(value, key + "tcp", example: "7001")
            var access = Config.TCPAccess(host: host, port: port, mode: .raw, allowRemote: false, allow: [], readOnly: false)
            if let mode = body["tcp_mode"] {
                guard let word = mode.string, let parsed = Config.TCPAccess.Mode(rawValue: word) else { throw fail(key + "tcp_mode", "expected \"raw\" or \"telnet\"") }
                access.mode = parsed
            }
            if let remote = body["tcp_allow_remote"] { access.allowRemote = try bool(remote, key + "tcp_allow_remote") }
            if let rights = body["tcp_rights"] {
                guard let word = rights.string, word == "rw" || word == "ro" else { throw fail(key + "tcp_rights", "expected \"rw\" or \"ro\"") }
                access.readOnly = word == "ro"
            }
            if let list = body["tcp_allow"] {
                guard let array = list.array else { throw fail(key + "tcp_allow", "expected a list such as [\"10.0.0.0/8\", \"::1\"]") }
                for element in array {
                    guard let entry = element.string, let network = IPNetwork(entry) else {
                        throw fail(key + "tcp_allow", "\(element.string.map { "\"\($0)\"" } ?? "an entry") is not an address or network (a.b.c.d/n or IPv6/n)")
                    }
                    access.allow.append(network)
                }
            }
            guard access.isLoopback || access.allowRemote else {
                throw fail(key + "tcp", "\(access.address) is not a loopback address: TCP access has no authentication, so binding it elsewhere needs tcp_allow_remote = true (and tcp_allow to limit who connects)")
            }
            return access
        }

        private func readSource(_ body: TOMLTable, _ key: TOMLKeyPath) throws(ConfigError) -> Config.Source {
            let given = ["device", "exec", "unix"].filter { body[$0] != nil }
            guard given.count == 1 else {
                throw fail(key, given.isEmpty ? "needs one of device, exec or unix" : "has \(given.joined(separator: " and ")); give exactly one")
            }
            if body["rows"] != nil || body["cols"] != nil, given[0] != "exec" {
                throw fail(key + "rows", "rows and cols apply to exec consoles only")
            }
            switch given[0] {
            case "device": return .device(path: try absolutePath(body["device"]!, key + "device"))
            case "unix": return .unix(path: try absolutePath(body["unix"]!, key + "unix"))
            default:
                guard let array = body["exec"]?.array else { throw fail(key + "exec", "expected an array of strings, e.g. [\"/usr/bin/ipmitool\", \"sol\", \"activate\"]") }
                var argv: [String] = []
                for element in array {
                    guard let word = element.string else { throw fail(key + "exec", "expected an array of strings; element \(argv.count + 1) is not a string") }
                    argv.append(word)
                }
                guard let first = argv.first, first.hasPrefix("/") else {
                    throw fail(key + "exec", "expected a command with an absolute path first, e.g. [\"/bin/sh\", \"-i\"]")
                }
                let rows = try int(body["rows"], key + "rows", 1...1000) ?? 24
                let cols = try int(body["cols"], key + "cols", 1...1000) ?? 80
                return .exec(argv: argv, rows: rows, cols: cols)
            }
        }

        private func applySettings(_ table: TOMLTable, prefix: TOMLKeyPath, to console: inout Config.Console) throws(ConfigError) {
            for key in ConfigParser.settingKeys {
                guard let value = table[key] else { continue }
                let name = prefix + key
                switch key {
                case "baud", "data_bits", "stop_bits":
                    guard let n = value.int else { throw fail(name, "expected an integer") }
                    do {
                        try console.settings.set(key, String(n))
                    } catch {
                        throw fail(name, "expected \(error.expected), got \(n)")
                    }
                case "parity", "flow":
                    guard let text = value.string else { throw fail(name, "expected a string") }
                    do {
                        try console.settings.set(key, text)
                    } catch {
                        throw fail(name, "expected \(error.expected), got \"\(text)\"")
                    }
                case "replay_bytes": console.replayBytes = try int(value, name, 0...16_777_216)!
                case "log_max_bytes": console.logMaxBytes = try int(value, name, 0...Int(Int32.max))!
                case "log_keep": console.logKeep = try int(value, name, 1...100)!
                case "client_queue_bytes": console.clientQueueBytes = try int(value, name, 65_536...1_073_741_824)!
                case "max_clients": console.maxClients = try int(value, name, 1...10_000)!
                case "max_clients_per_user": console.maxClientsPerUser = try int(value, name, 1...10_000)!
                case "timestamps": console.timestamps = try bool(value, name)
                case "log": console.log = try bool(value, name)
                case "transcript": console.transcript = try bool(value, name)
                // transcript_keep_bytes: the old name, the same meaning (a console's total).
                case "record_keep_bytes", "transcript_keep_bytes": console.recordKeepBytes = try int(value, name, 4096...(1 << 50))!
                case "transcript_max_bytes": throw fail(name, "transcript_max_bytes is gone: output is recorded once per console; set record_keep_bytes (the console's recording; a session's input is held to 1/32 of it)")
                case "write_policy":
                    guard let text = value.string, let policy = Config.WritePolicy(rawValue: text) else {
                        throw fail(name, "expected \"shared\" or \"exclusive\"")
                    }
                    console.writePolicy = policy
                default:
                    guard let text = value.string, !text.isEmpty, !text.contains(where: { $0 == ":" || $0 == " " || $0 == "/" }) else {
                        throw fail(name, "expected a group name such as \"rtty\"")
                    }
                    console.group = text
                }
            }
        }

        private func int(_ value: TOMLValue?, _ name: TOMLKeyPath, _ range: ClosedRange<Int>) throws(ConfigError) -> Int? {
            guard let value else { return nil }
            guard let n = value.int else { throw fail(name, "expected an integer from \(range.lowerBound) to \(range.upperBound)") }
            guard range.contains(n) else { throw fail(name, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(n)") }
            return n
        }

        private func bool(_ value: TOMLValue, _ name: TOMLKeyPath) throws(ConfigError) -> Bool {
            guard let b = value.bool else { throw fail(name, "expected true or false") }
            return b
        }

        func absolutePath(_ value: TOMLValue, _ name: TOMLKeyPath) throws(ConfigError) -> String {
            guard let text = value.string else { throw fail(name, "expected a path in quotes") }
            guard text.hasPrefix("/") else { throw fail(name, "expected an absolute path, got \"\(text)\"") }
            guard !text.utf8.contains(0) else { throw fail(name, "path contains a NUL byte") }
            return text
        }
    }
}

extension Config.Defaults {
    init(from template: Config.Console) {
        self.init()
        settings = template.settings
        group = template.group
        replayBytes = template.replayBytes
        timestamps = template.timestamps
        log = template.log
        logMaxBytes = template.logMaxBytes
        logKeep = template.logKeep
        writePolicy = template.writePolicy
        clientQueueBytes = template.clientQueueBytes
        maxClients = template.maxClients
        maxClientsPerUser = template.maxClientsPerUser
        transcript = template.transcript
        recordKeepBytes = template.recordKeepBytes
        triggers = template.triggers
    }
}
