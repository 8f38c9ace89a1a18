import RTTYCore
import Testing

/// The recording format and the asciicast export built from it, without I/O.
@Suite struct RecordingTests {
    static let header = Recording.Header(console: "pbx", session: "pbx-1-2", title: "rtm on pbx", width: 100, height: 30)

    static func file(_ records: [Recording.Record]) -> [UInt8] { Recording.magic + records.flatMap(Recording.encode) }

    static func parse(_ bytes: [UInt8], chunk: Int) -> (records: [Recording.Record], parser: Recording.Parser) {
        var parser = Recording.Parser()
        var records: [Recording.Record] = []
        var index = 0
        while index < bytes.count {
            parser.append(bytes[index..<min(index + chunk, bytes.count)])
            index += chunk
            while let record = parser.next() { records.append(record) }
        }
        return (records, parser)
    }

    @Test func recordsComeBackInAnyChunkingAndACutRecordEndsTheFile() {
        let records = [
            Recording.Record(kind: .header, time: 1_000_000, offset: 7, payload: Self.header.payload),
            Recording.Record(kind: .input, time: 1_500_000, offset: 9, payload: [0xFF, 0, 10]),
            Recording.Record(kind: .end, time: 2_000_000, offset: 12),
        ]
        let bytes = Self.file(records)
        for chunk in [1, 3, 21, 4096] {
            #expect(Self.parse(bytes, chunk: chunk).records == records, "chunks of \(chunk)")
        }
        #expect(Recording.Header(payload: records[0].payload) == Self.header)
        let cut = Self.parse(Array(bytes.dropLast(2)), chunk: 5)
        #expect(cut.records == Array(records.prefix(2)))
        #expect(cut.parser.leftover == Recording.headSize - 2)
        var wrong = Recording.Parser()
        wrong.append(Array("[0.1, \"o\"]".utf8))
        #expect(wrong.next() == nil && wrong.broken != nil)
        var huge = Recording.magic
        Recording.appendHead(kind: .output, time: 0, offset: 0, length: Recording.maxPayload + 1, to: &huge)
        var parser = Recording.Parser()
        parser.append(huge)
        #expect(parser.next() == nil && parser.broken?.contains("16777217") == true)
    }

    /// The output the session saw: its replay (from `view`) shown when it joined, live
    /// output at its time, nothing past its end, input merged by time; a character split
    /// between two records is kept whole.
    @Test func theExportShowsTheSpanWithTheReplayAtTheJoinAndInputInOrder() throws {
        let session = try #require(Recording.Session(records: [
            Recording.Record(kind: .header, time: 10_000_000, offset: 100, payload: Self.header.payload),
            Recording.Record(kind: .view, time: 10_100_000, offset: 95),
            Recording.Record(kind: .input, time: 11_000_000, offset: 104, payload: Array("ls\r".utf8)),
            Recording.Record(kind: .end, time: 13_000_000, offset: 110),
        ]))
        var cast = Recording.CastAssembler(session, recorded: 500, runStart: 0, maxBytes: 1 << 20)
        #expect(cast.span == 95..<110)
        var text = cast.header(timestamp: 10)
        text += cast.output(Recording.Record(kind: .output, time: 9_000_000, offset: 90, payload: Array("old..$ ".utf8)))
        text += cast.output(Recording.Record(kind: .output, time: 10_500_000, offset: 97, payload: Array("ok caf".utf8) + [0xC3]))
        text += cast.output(Recording.Record(kind: .output, time: 11_200_000, offset: 104, payload: [0xA9] + Array("ls\r\nafter".utf8)))
        text += cast.finish()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains(#""width":100,"height":30"#) == true, "\(lines)")
        #expect(Array(lines.dropFirst()) == [
            #"[0.100000, "o", "$ "]"#,
            #"[0.500000, "o", "ok caf"]"#,
            #"[1.000000, "i", "ls\r"]"#,
            #"[1.200000, "o", "éls\r\na"]"#,
        ])
    }

    /// A session with no end that began before the daemon's current run ended with the
    /// run before; a live one is shown up to now; a long span is shown from its last bytes.
    @Test func theSpanOfADeadOrLiveSession() throws {
        let records = [
            Recording.Record(kind: .header, time: 0, offset: 100, payload: Self.header.payload),
            Recording.Record(kind: .view, time: 0, offset: 100),
        ]
        let session = try #require(Recording.Session(records: records))
        #expect(Recording.CastAssembler(session, recorded: 900, runStart: 500, maxBytes: 1 << 20).span == 100..<500)
        #expect(Recording.CastAssembler(session, recorded: 900, runStart: 50, maxBytes: 1 << 20).span == 100..<900)
        #expect(Recording.CastAssembler(session, recorded: 900, runStart: 50, maxBytes: 300).span == 600..<900)
        let silent = try #require(Recording.Session(records: Array(records.prefix(1))))
        #expect(Recording.CastAssembler(silent, recorded: 900, runStart: 0, maxBytes: 1 << 20).span.isEmpty)
    }

    /// The old keys: transcript_keep_bytes is still read, transcript_max_bytes is refused
    /// with an error that names the key that replaced it.
    @Test func oldTranscriptKeysAreReadOrRefusedByName() {
        let text = "[defaults]\ntranscript_keep_bytes = 200000\n[console.a]\nexec = [\"/bin/cat\"]\n"
        #expect((try? ConfigParser.parse(text, file: "rtty.conf"))?.consoles.first?.recordKeepBytes == 200_000)
        do {
            _ = try ConfigParser.parse("[defaults]\ntranscript_max_bytes = 65536\n", file: "rtty.conf")
            Issue.record("transcript_max_bytes was accepted")
        } catch {
            #expect("\(error)".contains("record_keep_bytes") && "\(error)".contains("rtty.conf:2"), "\(error)")
        }
    }
}
