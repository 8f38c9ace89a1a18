/// What sshd asked rtty-shell to do, decided from its arguments and environment.
public enum ShellRequest: Equatable, Sendable {
    /// A console by name, or nil: pick one (the only allowed one, else a menu).
    case console(String?, readOnly: Bool)
    /// `list` or `list --json`: the consoles this user may use (`list` alone is a console
    /// named list when the user may use one; the shell decides, it knows the consoles).
    case list(json: Bool)
    /// Anything that is not a console request: refused with this message.
    case refused(String)

    /// Programs people (and tools) try through a login shell, named in the refusal.
    static let knownTools = ["sftp-server", "internal-sftp", "scp", "rsync", "sh", "bash", "zsh", "git-upload-pack", "git-receive-pack"]

    /// `argv` as sshd runs a login shell: ["-rtty-shell"] for `ssh host`, ["rtty-shell",
    /// "-c", "COMMAND"] for `ssh host COMMAND`. Under ForceCommand the command is in
    /// SSH_ORIGINAL_COMMAND.
    public static func parse(arguments: [String], originalCommand: String?) -> ShellRequest {
        var command: String?
        let rest = Array(arguments.dropFirst())
        if rest.count >= 2 && rest[0] == "-c" {
            command = rest[1]
        } else if !rest.isEmpty {
            return .refused("rtty-shell: unexpected arguments \(rest.joined(separator: " ")); this account only reaches consoles")
        }
        if let original = originalCommand, !original.isEmpty {
            command = original
        } else if let forced = command, isItself(forced) {
            // `ForceCommand rtty-shell` and a plain `ssh host`: no console named.
            command = nil
        }
        guard let command else { return .console(nil, readOnly: false) }
        var words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if words.isEmpty { return .console(nil, readOnly: false) }
        if words.first == "list" { return listing(words) }
        var readOnly = false
        if words.first == "-r" || words.first == "--read-only" {
            readOnly = true
            words.removeFirst()
        }
        guard words.count <= 1 else {
            let first = words[0]
            let program = first.hasPrefix("-") || first.contains("/") || knownTools.contains(first) || ConsoleName.problem(first) != nil
            return .refused(program ? refusal(first) : "rtty-shell: \(words.joined(separator: " ")) is more than a console name: this account only reaches consoles. \(usage)")
        }
        guard let name = words.first else { return .console(nil, readOnly: readOnly) }
        if ConsoleName.problem(name) != nil { return .refused(refusal(name)) }
        if knownTools.contains(name) { return .refused(refusal(name)) }
        return .console(name, readOnly: readOnly)
    }

    /// `list` and `list --json`; any other word after `list` refuses the whole request.
    private static func listing(_ words: [String]) -> ShellRequest {
        switch words.count {
        case 1: return .list(json: false)
        case 2 where words[1] == "--json": return .list(json: true)
        case 2 where words[1].hasPrefix("-"): return .refused(refusal(words[1]))
        default: return .refused("rtty-shell: \(words.joined(separator: " ")) is not a request this account takes: `list`, `list --json` or a console name. \(usage)")
        }
    }

    /// The command is rtty-shell itself (by name or path), as sshd's ForceCommand runs it.
    private static func isItself(_ command: String) -> Bool {
        command.split(separator: "/").last.map(String.init) == "rtty-shell"
    }

    /// Names the word as it was given (a path's last part alone once read "x" for
    /// `--socket-dir=/tmp/x`), and says what does work.
    static let usage = "Use `ssh -t HOST CONSOLE`, `ssh -t -- HOST -r CONSOLE` (read-only) or just `ssh HOST`."

    private static func refusal(_ word: String) -> String {
        if word.hasPrefix("-") {
            return "rtty-shell: the option \(word) is not available here: over ssh only a console name (and -r) can be given. \(usage)"
        }
        return "rtty-shell: \(word) is not available here: this account only reaches consoles. \(usage)"
    }
}

/// Which console a session goes to.
public enum ConsoleChoice: Equatable, Sendable {
    case attach(String)
    case menu([String])
    case refuse(String)

    /// `allowed` are the consoles the user may use, in display order.
    public static func decide(requested: String?, allowed: [String], user: String) -> ConsoleChoice {
        if let requested {
            return allowed.contains(requested)
                ? .attach(requested)
                : .refuse("rtty-shell: \(user) may not use a console named \(requested) (or there is none); ask an admin for `rttyctl grant \(user) \(requested)`")
        }
        switch allowed.count {
        case 0: return .refuse("rtty-shell: \(user) may not use any console; ask an admin for `rttyctl grant \(user) CONSOLE`")
        case 1: return .attach(allowed[0])
        default: return .menu(allowed)
        }
    }

    /// A menu answer: a number from the list or a console name; nil = ask again.
    public static func pick(_ answer: String, from menu: [String]) -> String? {
        let text = answer.trimmingSpaces()
        if let n = Int(text), (1...menu.count).contains(n) { return menu[n - 1] }
        return menu.contains(text) ? text : nil
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }.reversed())
    }
}
