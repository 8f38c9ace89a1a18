/// `[[defaults.trigger]]` and `[[console.NAME.trigger]]` (rtty.conf(5), TRIGGERS).
extension ConfigParser {
    static let triggerKeys = ["name", "match", "audit", "notice", "mark", "command", "command_interval", "command_timeout"]
    /// Per console, defaults included: each is a bit of the matcher's candidate mask.
    public static let maxTriggers = 64
}

extension ConfigParser.Reader {
    /// The triggers of `table` after the `inherited` ones (the defaults' for a console).
    func readTriggers(_ table: TOMLTable, _ parent: TOMLKeyPath, after inherited: [Trigger] = []) throws(ConfigError) -> [Trigger] {
        guard let value = table["trigger"] else { return inherited }
        let arrayKey = parent + "trigger"
        guard let elements = value.array else {
            throw fail(arrayKey, "expected tables [[\(arrayKey)]] with name and match")
        }
        guard inherited.count + elements.count <= ConfigParser.maxTriggers else {
            throw fail(arrayKey, "at most \(ConfigParser.maxTriggers) triggers per console (defaults included), got \(inherited.count + elements.count)")
        }
        var triggers = inherited
        for (index, element) in elements.enumerated() {
            func problem(_ key: String?, _ message: String) -> ConfigError {
                let shown = key.map { "\(arrayKey)[\(index + 1)].\($0)" } ?? "\(arrayKey)[\(index + 1)]"
                return ConfigError(file: file, line: keyLines.line(of: arrayKey, element: index, key: key), key: shown, message: message)
            }
            guard let body = element.table else { throw problem(nil, "expected a table with name and match") }
            for key in body.keys where !ConfigParser.triggerKeys.contains(key) {
                throw problem(key, "unknown key; expected one of \(ConfigParser.triggerKeys.joined(separator: ", "))")
            }
            guard let name = body["name"]?.string else { throw problem("name", "expected a name in quotes, e.g. name = \"linux-panic\"") }
            if let why = Trigger.nameProblem(name) { throw problem("name", why) }
            if triggers.contains(where: { $0.name == name }) { throw problem("name", "\"\(name)\" names another trigger of this console (defaults included)") }
            guard let pattern = body["match"]?.string else {
                throw problem("match", "expected a regular expression in quotes, e.g. match = 'Kernel panic - not syncing'")
            }
            if case .failure(let error) = Trigger.compile(pattern) { throw problem("match", error.message) }
            var trigger = Trigger(name: name, pattern: pattern)
            for key in ["audit", "notice", "mark"] {
                guard let flag = body[key] else { continue }
                guard let on = flag.bool else { throw problem(key, "expected true or false") }
                switch key {
                case "audit": trigger.audit = on
                case "notice": trigger.notice = on
                default: trigger.mark = on
                }
            }
            if let command = body["command"] {
                let argv = command.array?.compactMap(\.string) ?? []
                guard argv.count == command.array?.count, argv.first?.hasPrefix("/") == true, !argv.contains(where: { $0.utf8.contains(0) }) else {
                    throw problem("command", "expected an argv array with an absolute path first, e.g. [\"/usr/bin/logger\", \"-t\", \"rtty\"] (it is run without a shell)")
                }
                trigger.command = argv
            }
            for key in ["command_interval", "command_timeout"] {
                guard let given = body[key] else { continue }
                guard !trigger.command.isEmpty else { throw problem(key, "applies only with command = [...]") }
                let range = key == "command_interval" ? Trigger.commandIntervalRange : Trigger.commandTimeoutRange
                guard let seconds = given.int, range.contains(seconds) else {
                    throw problem(key, "expected seconds from \(range.lowerBound) to \(range.upperBound)")
                }
                if key == "command_interval" { trigger.commandInterval = seconds } else { trigger.commandTimeout = seconds }
            }
            guard trigger.audit || trigger.notice || trigger.mark || !trigger.command.isEmpty else {
                throw problem(nil, "does nothing: audit, notice and mark are false and there is no command")
            }
            triggers.append(trigger)
        }
        return triggers
    }
}
