import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// Per-session transcripts (asciicast v2), `rttyctl sessions` and `rttyctl replay`.
@Suite struct TranscriptTests {
    static let asciinema = ["/usr/local/bin/asciinema", "/usr/bin/asciinema", NSHomeDirectory() + "/.local/bin/asciinema"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? Self.onPath("asciinema")
    static var haveAsciinema: Bool { asciinema != nil || ProcessInfo.processInfo.environment["CI"] == "true" }

    static func onPath(_ program: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(program)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Rig {
        let env: TestEnvironment
        let daemon: DaemonProcess
        let session: String

        /// One finished session on an echoing console: typed "ping", saw "answer:ping".
        init() throws {
            env = try TestEnvironment()
            try env.writeConfig(
                """
                [console.sh]
                exec = ["/bin/sh", "-c", "echo 'caf\\u00e9 ready'; while read line; do echo \\"answer:$line\\"; done"]
                """)
            daemon = try DaemonProcess(env)
            try daemon.waitForLog("source open")
            let run = try ClientTests.rtty(["--socket-dir", env.socketDir, "--timeout", "1", "sh"], input: "ping\n")
            #expect(run.stdout.contains("answer:ping"), "\(run.stderr)")
            let audit = env.logDir + "/audit.jsonl"
            try waitUntil(timeout: 5, "a session-end record") { ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").contains("session-end") }
            let text = try String(contentsOfFile: audit, encoding: .utf8)
            let start = try #require(text.split(separator: "\n").first { $0.contains("session-start") })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(start.utf8)) as? [String: Any])
            session = try #require(object["session"] as? String)
            #expect(object["transcript"] as? String == env.logDir + "/sessions/\(session).cast")
        }

        var castPath: String { env.logDir + "/sessions/\(session).cast" }

        func rttyctl(_ arguments: [String]) throws -> ProcessRun {
            try ProcessRun.run(BuiltProducts.path("rttyctl"), Array(arguments.prefix(1)) + ["--control", env.socketDir + "/control"] + arguments.dropFirst(), input: "")
        }
    }

    @Test func sessionIsRecordedAsAsciicastWithInputAndOutput() throws {
        let rig = try Rig()
        let attributes = try FileManager.default.attributesOfItem(atPath: rig.castPath)
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: rig.env.logDir + "/sessions")[.posixPermissions] as? Int == 0o700)
        let lines = try String(contentsOfFile: rig.castPath, encoding: .utf8).split(separator: "\n")
        let header = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(header["version"] as? Int == 2)
        #expect(header["width"] as? Int == 80)
        var output = "", input = ""
        var last = 0.0
        for line in lines.dropFirst() {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
            let time = try #require((event[0] as? NSNumber)?.doubleValue)
            #expect(time >= last, "event times go forward")
            last = time
            if event[1] as? String == "o" { output += event[2] as? String ?? "" }
            if event[1] as? String == "i" { input += event[2] as? String ?? "" }
        }
        #expect(input == "ping\n")
        #expect(output.contains("answer:ping"))
        #expect(output.contains("café ready"), "UTF-8 kept whole: \(output.debugDescription)")
    }

    @Test func rttyctlListsTheSessionAndReplaysIt() throws {
        let rig = try Rig()
        let sessions = try rig.rttyctl(["sessions", "--console", "sh", "--since", "1h"])
        #expect(sessions.status == 0, "\(sessions.stderr)")
        let row = try #require(sessions.stdout.split(separator: "\n").first { $0.hasPrefix(rig.session) })
        #expect(row.contains("\tsh\t\(Accounts.currentUserName())\tlocal\t"), "\(row)")
        #expect(row.hasSuffix("\tclient closed"), "\(row)")
        #expect(try rig.rttyctl(["sessions", "--console", "other"]).stdout.contains(rig.session) == false)
        #expect(try rig.rttyctl(["sessions", "--since", "2999-01-01"]).stdout.contains(rig.session) == false)
        #expect(try rig.rttyctl(["sessions", "--since", "yesterday"]).status != 0)

        let replay = try rig.rttyctl(["replay", "--no-wait", "--show-input", rig.session])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("answer:ping"))
        #expect(replay.stdout.contains("\u{1B}[7mping\n\u{1B}[27m"))
        let missing = try rig.rttyctl(["replay", "sh-0-0"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no transcript for session sh-0-0"), "\(missing.stderr)")
    }

    @Test(.enabled(if: haveAsciinema)) func asciinemaReadsTheTranscript() throws {
        let program = try #require(Self.asciinema, "asciinema is not installed (.ci/run installs it with pip)")
        let rig = try Rig()
        let cat = try ProcessRun.run(program, ["cat", rig.castPath], input: "")
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(cat.stdout.contains("answer:ping"))
        #expect(cat.stdout.contains("café ready"))
    }

    /// Transcripts are bounded: one session's at transcript_max_bytes, with a last event
    /// that says where it was cut (a 100 MB paste made a 210 MB transcript); a console's
    /// together at transcript_keep_bytes, the oldest removed; and a session that typed
    /// nothing leaves no file (10,000 such sessions made 10,000 files).
    @Test func transcriptsAreBoundedPerSessionAndPerConsoleAndSilentSessionsLeaveNone() throws {
        let env = try TestEnvironment()
        try env.writeConfig(
            "[console.sh]\nexec = [\"/bin/cat\"]\n", defaults: "transcript_max_bytes = 65536\ntranscript_keep_bytes = 200000")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        let sessions = env.logDir + "/sessions"
        func casts() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: sessions)) ?? []).filter { $0.hasSuffix(".cast") } }
        func size(_ name: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: sessions + "/" + name)[.size] as? Int) ?? 0 }
        // 1 MiB of paste into one session.
        let paste = String(repeating: "0123456789abcdef0123456789abcdef0123456789abcdef012345678\n", count: 18_000)
        let big = try ClientTests.rtty(["--socket-dir", env.socketDir, "--timeout", "1", "sh"], input: paste + "end\n")
        #expect(big.stdout.contains("end"), "\(big.stderr)")
        let audit = env.logDir + "/audit.jsonl"
        try waitUntil(timeout: 10, "the big session's end") { ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").contains("cut at half of transcript_max_bytes") }
        let cut = try #require(casts().first)
        #expect(size(cut) <= 65536 + 1024, "a transcript of \(size(cut)) bytes")
        let text = try String(contentsOfFile: sessions + "/" + cut, encoding: .utf8)
        #expect(text.contains("transcript input cut at 32768 bytes"))
        #expect(text.contains("transcript output cut at 32768 bytes"))
        if let asciinema = Self.asciinema {
            let played = try ProcessRun.run(asciinema, ["cat", sessions + "/" + cut], input: "")
            #expect(played.status == 0 && played.stdout.contains("transcript input cut at"), "asciinema cat: \(played.stderr)")
        }
        // Twenty sessions that type nothing (but stay long enough to be on record): no files.
        for _ in 0..<20 {
            _ = try ClientTests.rtty(["--socket-dir", env.socketDir, "--timeout", "0.5", "sh"], input: "")
        }
        try waitUntil(timeout: 10, "twenty silent session ends: \(((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").suffix(3000))") {
            ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").components(separatedBy: "removed: the session typed nothing").count == 21
        }
        #expect(casts() == [cut])
        // Ten sessions of 40 KB each: together they stay under 200,000 bytes, oldest first out.
        let chunk = String(repeating: "x", count: 99) + "\n"
        for n in 0..<10 {
            _ = try ClientTests.rtty(["--socket-dir", env.socketDir, "--timeout", "0.5", "sh"], input: String(repeating: chunk, count: 200) + "session \(n)\n")
        }
        try waitUntil(timeout: 10, "the last session's end") {
            ((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").split(separator: "\n").last?.contains("session-end") == true
        }
        let kept = casts()
        let total = kept.reduce(0) { $0 + size($1) }
        #expect(total < 200_000 + 65_536, "\(kept.count) transcripts, \(total) bytes")
        #expect(!kept.contains(cut), "the oldest transcript was kept: \(kept.map { ($0, size($0)) })")
        #expect(kept.count >= 3)
    }

    /// Lines of audit.jsonl that are not records (two merged by a full disk, one cut short,
    /// one whose fields have the wrong types) are skipped and counted; the rest is listed.
    /// Before: they went into the answer's JSON array as they were and rttyctl failed with
    /// "rttyd sent an answer that is not JSON".
    @Test func invalidAuditLinesAreSkippedAndCounted() throws {
        let rig = try Rig()
        let audit = rig.env.logDir + "/audit.jsonl"
        let bad = [
            #"{"time":"2026-01-01T00:00:00Z","event":"session-start","session":"sh-9-{"time":"x","event":"session-end","session":"sh-9-9"}"#,
            #"{"time":"2026-01-01T00:00:00Z","event":"session-start","session":["sh-8-8"],"console":"sh"}"#,
            #"{"time":"2026-01-01T00:00:00Z","event":"session-end","session":"sh-7-"#,
        ]
        let handle = try #require(FileHandle(forWritingAtPath: audit))
        handle.seekToEndOfFile()
        handle.write(Data((bad.joined(separator: "\n") + "\n").utf8))
        try handle.close()
        let sessions = try rig.rttyctl(["sessions"])
        #expect(sessions.status == 0, "\(sessions.stderr)")
        #expect(sessions.stdout.contains(rig.session), "\(sessions.stdout)")
        #expect(!sessions.stdout.contains("sh-9-") && !sessions.stdout.contains("sh-8-8"), "\(sessions.stdout)")
        #expect(sessions.stderr.contains("3 lines of the audit log could not be read and were skipped"), "\(sessions.stderr)")
        let json = try rig.rttyctl(["sessions", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["skipped"] as? Int == 3, "\(json.stdout)")
    }
}
