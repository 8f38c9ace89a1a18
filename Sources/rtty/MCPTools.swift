import RTTYClient
import RTTYCore
import RTTYSession
import RTTYSystem
import SystemPackage

/// The agent server's tools. Each console is one session of the user, opened at its first
/// use (with the console's recent output, so the agent sees where it is) and kept while the
/// server runs; output goes into that session's window, read back by offset.
final class MCPTools {
    static let maxRead = 65_536
    static let defaultRead = 4096
    static let maxWait = 300.0

    let socketDir: String
    let allowWrite: Bool
    /// The AGENT claim of every session: "mcp", and the client's own name once it said it.
    var agent = "mcp"
    private var sessions: [String: ConsoleSession] = [:]
    private var order: [String] = []

    init(socketDir: String, allowWrite: Bool) {
        self.socketDir = socketDir
        self.allowWrite = allowWrite
    }

    struct Outcome {
        let text: String
        let fields: [String: JSONValue]
        let isError: Bool

        static func failure(_ text: String) -> Outcome { Outcome(text: text, fields: ["error": .string(text)], isError: true) }

        var json: JSONValue {
            .object([
                "content": .array([.object(["type": .string("text"), "text": .string(text)])]),
                "structuredContent": .object(fields),
                "isError": .bool(isError),
            ])
        }
    }

    static let names = ["list_consoles", "read_output", "send_text", "send_break", "wait_for"]

    static func instructions(allowWrite: Bool) -> String {
        "Consoles of rttyd, with the rights of the user who started this server; every session is audited as an agent session. "
            + (allowWrite ? "Writing is allowed where the user's grant is read-write." : "Read-only: started without --allow-write, so send_text and send_break are refused.")
    }

    static var descriptions: [JSONValue] {
        let console: JSONValue = .object(["type": .string("string"), "description": .string("Console name, as list_consoles gives it")])
        func tool(_ name: String, _ description: String, _ properties: [String: JSONValue], required: [String]) -> JSONValue {
            .object([
                "name": .string(name), "description": .string(description),
                "inputSchema": .object(["type": .string("object"), "properties": .object(properties), "required": .array(required.map(JSONValue.string))]),
            ])
        }
        let dryRun: JSONValue = .object(["type": .string("boolean"), "description": .string("Only say what would be sent and whether it is allowed")])
        return [
            tool("list_consoles", "The consoles this user may open, with device state and line settings", [:], required: []),
            tool(
                "read_output", "Console output (escape sequences taken out) from an offset; next_offset says where to go on",
                [
                    "console": console,
                    "offset": .object(["type": .string("integer"), "description": .string("Byte offset in this server's session (0: the recent output shown on attach)")]),
                    "max_bytes": .object(["type": .string("integer"), "description": .string("At most this many bytes (default \(defaultRead), at most \(maxRead))")]),
                ], required: ["console"]),
            tool(
                "send_text", "Type text into a console (JSON escapes carry control characters: \\r is Enter, \\u0003 Ctrl-C)",
                ["console": console, "text": .object(["type": .string("string")]), "dry_run": dryRun], required: ["console", "text"]),
            tool("send_break", "Send a serial BREAK", ["console": console, "dry_run": dryRun], required: ["console"]),
            tool(
                "wait_for", "Wait until output after this call (or after from_offset) matches a regular expression",
                [
                    "console": console, "pattern": .object(["type": .string("string")]),
                    "timeout_seconds": .object(["type": .string("number"), "description": .string("Default 10, at most \(Int(maxWait))")]),
                    "from_offset": .object(["type": .string("integer"), "description": .string("Match output from this offset on instead")]),
                ], required: ["console", "pattern"]),
        ]
    }

    // MARK: sessions

    /// The sessions still open, in a fixed order: their descriptors are polled (a closed
    /// one would poll as ready for ever).
    var openSessions: [ConsoleSession] { order.compactMap { sessions[$0] }.filter { !$0.isClosed } }

    /// Reads those of `polled` that poll found readable.
    func receive(_ polled: [ConsoleSession], ready: [Bool]) {
        for (session, isReady) in zip(polled, ready) where isReady {
            _ = session.receive()
        }
    }

    private func session(_ name: String) throws(MCPFailure) -> ConsoleSession {
        if let open = sessions[name], !open.isClosed { return open }
        if let closed = sessions.removeValue(forKey: name) {
            order.removeAll { $0 == name }
            throw MCPFailure("the session on \(name) ended: \(closed.closingNotice.map(TerminalText.escaped) ?? "connection closed by rttyd"); the next call opens a new one")
        }
        guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("."), name != "control" else {
            throw MCPFailure("\(ClientText.sanitized(name.utf8, limit: 64)) is not a console name")
        }
        var options = SessionOptions(socketPath: socketDir + "/" + name)
        options.readOnly = !allowWrite
        options.replay = true
        options.label = "mcp"
        options.metadata = ["AGENT": agent]
        do {
            let opened = try ConsoleSession(options)
            // rttyd answers in order: once a query is answered, the replay is in the window.
            _ = try opened.settle()
            sessions[name] = opened
            order.append(name)
            return opened
        } catch {
            throw MCPFailure(error.description)
        }
    }

    // MARK: tools

    func call(_ name: String, _ arguments: JSONValue) -> Outcome {
        do throws(MCPFailure) {
            switch name {
            case "list_consoles": return try listConsoles()
            case "read_output": return try readOutput(arguments)
            case "send_text": return try sendText(arguments)
            case "send_break": return try sendBreak(arguments)
            default: return try waitFor(arguments)
            }
        } catch {
            return .failure(error.message)
        }
    }

    private func listConsoles() throws(MCPFailure) -> Outcome {
        let entries: [ConsoleList.Entry]
        do {
            entries = try ConsoleList.entries(socketDir: socketDir, all: false)
        } catch {
            throw MCPFailure("cannot list the consoles in \(socketDir): \(error.errno)")
        }
        let list: [JSONValue] = entries.map {
            .object(["name": .string($0.name), "state": .string($0.state), "settings": .string($0.detail)])
        }
        let text = entries.isEmpty ? "no consoles this user may open" : entries.map { "\($0.name)  \($0.state)  \($0.detail)" }.joined(separator: "\n")
        return Outcome(text: text, fields: ["consoles": .array(list)], isError: false)
    }

    private func readOutput(_ arguments: JSONValue) throws(MCPFailure) -> Outcome {
        let session = try self.session(try Self.text(arguments, "console"))
        let offset = try Self.integer(arguments, "offset") ?? 0
        let limit = min(max(try Self.integer(arguments, "max_bytes") ?? Self.defaultRead, 1), Self.maxRead)
        _ = session.pump(timeoutMilliseconds: 0)
        let slice = session.output.read(from: offset, limit: limit)
        let text = Self.readable(slice.bytes)
        var fields: [String: JSONValue] = [
            "text": .string(text), "offset": .int(slice.from), "next_offset": .int(slice.next), "end_offset": .int(session.output.end),
        ]
        if slice.missed > 0 { fields["missed_bytes"] = .int(slice.missed) }
        let note = slice.missed > 0 ? "[\(slice.missed) older bytes are gone; from offset \(slice.from)]\n" : ""
        return Outcome(text: note + text, fields: fields, isError: false)
    }

    private func sendText(_ arguments: JSONValue) throws(MCPFailure) -> Outcome {
        let name = try Self.text(arguments, "console")
        let bytes = Array(try Self.text(arguments, "text").utf8)
        guard !bytes.isEmpty else { throw MCPFailure("text is empty") }
        return try write(name, arguments, what: "\(bytes.count) bytes (\(ClientText.sanitized(bytes, limit: 200)))") { session throws(ConsoleSession.Failure) in try session.send(bytes) }
    }

    private func sendBreak(_ arguments: JSONValue) throws(MCPFailure) -> Outcome {
        try write(try Self.text(arguments, "console"), arguments, what: "a BREAK") { session throws(ConsoleSession.Failure) in try session.sendBreak() }
    }

    /// Input of either kind: refused without --allow-write and on a read-only grant (before
    /// and regardless of the daemon, which refuses it too); a dry run stops after saying so.
    private func write(_ name: String, _ arguments: JSONValue, what: String, _ body: (ConsoleSession) throws(ConsoleSession.Failure) -> Void) throws(MCPFailure) -> Outcome {
        let dryRun = arguments["dry_run"]?.bool ?? false
        guard allowWrite else {
            throw MCPFailure("refused: rtty mcp was started without --allow-write, so its sessions are read-only; \(what) not sent to \(name)")
        }
        let session = try self.session(name)
        guard session.mayWrite else {
            throw MCPFailure("refused: this user's grant on console \(name) is read-only; \(what) not sent")
        }
        if dryRun {
            return Outcome(text: "dry run: would send \(what) to \(name); allowed", fields: ["dry_run": .bool(true), "allowed": .bool(true)], isError: false)
        }
        _ = session.pump(timeoutMilliseconds: 0)
        // Output from here on is what answers this input (the offset for wait_for).
        let before = session.output.end
        do {
            try body(session)
            for event in try session.settle() {
                if case .refused(let why) = event { throw MCPFailure("rttyd refused: \(TerminalText.escaped(why))") }
            }
        } catch let failure as ConsoleSession.Failure {
            throw MCPFailure(failure.description)
        } catch let failure as MCPFailure {
            throw failure
        } catch {
            throw MCPFailure("\(error)")
        }
        return Outcome(text: "sent \(what) to \(name); its answer is output from offset \(before) on", fields: ["sent": .bool(true), "output_offset": .int(before)], isError: false)
    }

    private func waitFor(_ arguments: JSONValue) throws(MCPFailure) -> Outcome {
        let session = try self.session(try Self.text(arguments, "console"))
        let pattern = try Self.text(arguments, "pattern")
        let timeout = min(max(arguments["timeout_seconds"]?.number ?? 10, 0), Self.maxWait)
        var matcher: OutputMatcher
        do {
            matcher = try OutputMatcher(pattern: pattern)
        } catch {
            throw MCPFailure(error.description)
        }
        _ = session.pump(timeoutMilliseconds: 0)
        var offset = try Self.integer(arguments, "from_offset") ?? session.output.end
        // Other consoles' sessions are read too while this one waits.
        let outcome = session.wait(for: &matcher, from: &offset, timeout: timeout) { milliseconds in
            let polled = self.openSessions
            self.receive(polled, ready: Poll.readable(polled.map(\.descriptor), timeoutMilliseconds: milliseconds))
        }
        switch outcome {
        case .matched(let matched):
            return Outcome(text: "matched: \(matched)", fields: ["matched": .bool(true), "match": .string(matched), "end_offset": .int(offset)], isError: false)
        case .closed, .timedOut:
            let why = outcome == .closed ? "the session ended" : "no match within \(timeout) s"
            return Outcome(
                text: "\(why); last output: \(matcher.recentText)",
                fields: ["matched": .bool(false), "end_offset": .int(offset), "recent": .string(matcher.recentText)], isError: false)
        }
    }

    // MARK: arguments and text

    private static func text(_ arguments: JSONValue, _ key: String) throws(MCPFailure) -> String {
        guard let value = arguments[key]?.string else { throw MCPFailure("argument \(key) (a string) is missing") }
        return value
    }

    private static func integer(_ arguments: JSONValue, _ key: String) throws(MCPFailure) -> Int? {
        guard let value = arguments[key] else { return nil }
        guard let number = value.number, number >= 0, number <= 1e15, number == number.rounded() else {
            throw MCPFailure("argument \(key) must be a whole number >= 0")
        }
        return Int(number)
    }

    /// Output for an agent: escape sequences out, CR dropped, other controls shown as \xNN.
    static func readable(_ bytes: [UInt8]) -> String {
        var stripper = EscapeStripper()
        let kept = stripper.feed(bytes).filter { $0 != 13 }
        return String(decoding: kept, as: UTF8.self).unicodeScalars.map { scalar in
            scalar.value < 0x20 && scalar != "\n" && scalar != "\t" ? "\\x" + String(scalar.value, radix: 16) : String(scalar)
        }.joined()
    }
}

struct MCPFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
