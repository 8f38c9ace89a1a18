import ArgumentParser
import FoundationEssentials
import RTTYCore
import RTTYSystem

struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Past and current sessions from the audit log: who, where from, how long, how they ended.")
    @OptionGroup var options: ControlOptions
    @Option(name: .long, help: "Only this console.") var console: String?
    @Option(name: .long, help: "Only this user.") var user: String?
    @Option(name: .long, help: "Only sessions started since then: 2026-11-26, 2026-11-26T09:30, or 30m, 12h, 7d ago.")
    var since: String?

    func validate() throws {
        if let since, SinceFilter(since) == nil {
            throw ValidationError("--since \(since): expected a date such as 2026-11-26 or 2026-11-26T09:30, or an age such as 30m, 12h, 7d")
        }
    }

    func run() throws {
        let answer = try options.request(.sessions(console: console, user: user), as: ControlAnswer.SessionRecords.self)
        guard !options.json else { return }
        let cutoff = since.flatMap { SinceFilter($0) }
        var order: [String] = []
        var starts: [String: ControlAnswer.SessionRecord] = [:]
        var infos: [String: ControlAnswer.SessionRecord] = [:]
        var ends: [String: ControlAnswer.SessionRecord] = [:]
        for record in answer.records {
            guard let id = record.session else { continue }
            switch record.event {
            case "session-start":
                starts[id] = record
                order.append(id)
            case "session-info":
                infos[id] = infos[id] ?? record  // the daemon takes one; the first says it
            default:
                ends[id] = record
                if starts[id] == nil { order.append(id) }
            }
        }
        print(["SESSION", "CONSOLE", "USER", "FROM", "STARTED", "SECONDS", "IN", "OUT", "END"].joined(separator: "\t"))
        for id in order {
            let start = starts[id] ?? ends[id]
            let end = ends[id]
            let started = start?.time ?? "?"
            if let cutoff, !cutoff.includes(started) { continue }
            // FROM: the verified TCP peer, else what the ssh login claimed, marked as such.
            let from = start?.from ?? infos[id]?.claimedFrom.map { "\($0) (claimed)" } ?? "local"
            let fields: [String?] = [
                id, start?.console, start?.user, from, started,
                end?.duration.map { String($0) } ?? "-", end?.bytesIn.map(String.init) ?? "-", end?.bytesOut.map(String.init) ?? "-",
                end?.reason ?? "(live)",
            ]
            print(fields.map { TerminalText.field($0) }.joined(separator: "\t"))
        }
        Sessions.reportSkipped(answer.skipped ?? 0)
    }

    /// Lines of the audit log that are not records (the daemon skips them): said, not fatal.
    static func reportSkipped(_ skipped: Int) {
        guard skipped > 0 else { return }
        let what = skipped == 1 ? "1 line of the audit log could not be read and was skipped" : "\(skipped) lines of the audit log could not be read and were skipped"
        Console.writeError("rttyctl sessions: \(what) (not JSON records; the daemon's log and audit.jsonl itself show them)\n")
    }
}

/// --since: an ISO-8601 date/time prefix, or an age (30m, 12h, 7d).
struct SinceFilter {
    let earliest: String

    init?(_ text: String, now: Timestamp = WallClock.now()) {
        if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0, amount < 1e12,
            let scale = ["s": 1.0, "m": 60, "h": 3600, "d": 86_400][String(unit)]
        {
            earliest = Timestamp(seconds: now.seconds - Int64(amount * scale), nanoseconds: 0).iso8601
        } else if text.wholeMatch(of: /\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2})?)?)?/) != nil {
            earliest = text
        } else {
            return nil
        }
    }

    /// Audit times are UTC ISO-8601 strings, so they compare as text.
    func includes(_ time: String) -> Bool { time >= earliest }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a session's transcript with its timing (asciicast v2; `asciinema play` reads the same file).")
    @OptionGroup var options: ControlOptions
    @Argument(help: "A session id from `rttyctl sessions`.") var session: String
    @Option(name: .long, help: "Play this many times faster.") var speed: Double = 1
    @Option(name: .long, help: "Longest pause in seconds, however long the user was idle.") var maxWait: Double = 2
    @Flag(name: .long, help: "Print everything at once, no pauses.") var noWait = false
    @Flag(name: .long, help: "Also show what the user typed, in reverse video.") var showInput = false
    @Flag(name: .long, help: "Play the bytes as they are, escape sequences and all (default: made safe for a terminal).") var raw = false
    @Flag(name: .long, help: "Print the asciicast file itself (save it and give it to asciinema).") var cast = false

    func validate() throws {
        guard speed > 0 else { throw ValidationError("--speed must be more than 0") }
        guard maxWait >= 0 else { throw ValidationError("--max-wait must be 0 or more") }
    }

    func run() throws {
        let file = try options.request(.transcript(session: session), as: ControlAnswer.Transcript.self).cast
        guard !options.json else { return }
        if cast {
            try Output.write(Array(file.utf8))
            return
        }
        // The guest's output and the user's input are each one stream of bytes for a
        // terminal: a sequence may be split between two events.
        var output = TerminalFilter(), input = TerminalFilter()
        var previous = 0.0
        let decoder = JSONDecoder()
        for line in file.split(separator: "\n").dropFirst() {
            guard let event = try? decoder.decode(ControlAnswer.CastEvent.self, from: Data(line.utf8)) else { continue }
            let (time, text) = (event.time, event.text)
            if !noWait {
                let pause = min((time - previous) / speed, maxWait)
                if pause > 0 { Console.sleep(milliseconds: Int(pause * 1000)) }
            }
            previous = time
            switch event.kind {
            case "o": try Output.write(raw ? Array(text.utf8) : output.feed(text.utf8))
            case "i" where showInput:
                try Output.write(Array("\u{1B}[7m".utf8) + (raw ? Array(text.utf8) : input.feed(text.utf8)) + Array("\u{1B}[27m".utf8))
            default: break
            }
        }
        if !raw { try Output.write(output.finish() + input.finish()) }
    }
}

struct ImportClassic: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-classic",
        abstract: "Write rtty.conf from a classic rtty tree (dev/, opt/*.srv, sock/, log/) to standard output.")
    @Argument(help: "The classic rtty directory, e.g. /usr/local/rtty.") var directory: String

    func run() throws {
        let files = FileManager.default
        let devDir = directory + "/dev"
        guard let names = try? files.contentsOfDirectory(atPath: devDir) else {
            throw Failure("\(devDir) cannot be read: a classic tree has dev/NAME -> /dev/tty... for each console")
        }
        var notes: [String] = []
        // Whatever the bytes (startsrv read them with sh): a file that is not UTF-8 is still
        // read, and one that exists but cannot be read is said, never taken as missing.
        let read = { (file: String) -> String? in
            let path = self.directory + "/" + file
            guard files.fileExists(atPath: path) else { return nil }
            guard let data = files.contents(atPath: path) else {
                notes.append("\(file) exists but cannot be read; its options are not used")
                return nil
            }
            return String(decoding: data, as: UTF8.self)
        }
        var consoles: [ClassicImport.Console] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = devDir + "/" + name
            var device = (try? files.destinationOfSymbolicLink(atPath: path)) ?? path
            if !device.hasPrefix("/") { device = URL(fileURLWithPath: devDir + "/" + device).standardized.path }
            consoles.append(ClassicImport.Console(name: name, device: device, options: read("opt/\(name).srv")))
            if read("opt/\(name)") != nil {
                notes.append("opt/\(name) ignored: startsrv reads opt/\(name).srv")
            }
            for kind in ["sock", "log"] where read("prot/\(name).\(kind)") != nil {
                notes.append("prot/\(name).\(kind) not carried over: rttyd sets the modes itself (sockets root:group 0660, logs 0640)")
            }
        }
        let result = ClassicImport.convert(consoles: consoles, defaults: read("opt/DEFAULT.srv"), root: directory)
        print(result.config, terminator: "")
        for warning in result.warnings + notes { Console.writeError("rttyctl import-classic: \(warning)\n") }
    }
}
