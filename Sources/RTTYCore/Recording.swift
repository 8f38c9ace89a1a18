/// The daemon's own recording format (docs/RECORDING.md): a console's output is recorded
/// once, in segment files, and each session records only its input and the span of that
/// output it saw; `Recording.CastAssembler` joins the two into asciicast v2.
///
/// A file is the 8-byte magic "RTTYREC1", then records, each a 21-byte head and a payload:
/// kind (1 byte), time (8 bytes, microseconds since the epoch), offset (8 bytes: a position
/// in the console's output, counted from the recording's first byte), payload length (4
/// bytes), all little-endian. A record cut short by a full disk ends the file's readable
/// part; the writer goes on in a new file, so nothing after it is misread.
public enum Recording {
    public static let magic: [UInt8] = Array("RTTYREC1".utf8)
    public static let headSize = 21
    /// The most one record may carry (a reader refuses more: nothing it reads is trusted
    /// to be small).
    public static let maxPayload = 1 << 24

    public enum Kind: UInt8, Sendable {
        /// Console output starting at `offset` (the console's recording).
        case output = 0x6F
        /// What a session typed, at output position `offset`.
        case input = 0x69
        /// A session's start: payload is its `Header`; offset, the output position then.
        case header = 0x68
        /// The session sees output from `offset` on (its replay, then live output).
        case view = 0x76
        /// The session ended at output position `offset`.
        case end = 0x65
        /// The session's input was cut here (its bound); payload: the note.
        case inputCut = 0x63
    }

    public struct Record: Equatable, Sendable {
        public var kind: Kind
        /// Microseconds since the epoch (wall clock).
        public var time: Int64
        public var offset: UInt64
        public var payload: [UInt8]

        public init(kind: Kind, time: Int64, offset: UInt64, payload: [UInt8] = []) {
            self.kind = kind
            self.time = time
            self.offset = offset
            self.payload = payload
        }
    }

    /// Appends a record's head; the caller appends `length` payload bytes after it.
    public static func appendHead(kind: Kind, time: Int64, offset: UInt64, length: Int, to out: inout [UInt8]) {
        out.append(kind.rawValue)
        withUnsafeBytes(of: time.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: offset.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(length).littleEndian) { out.append(contentsOf: $0) }
    }

    /// Sets the payload length of a head written at `at` (the output record of a burst is
    /// begun before its length is known).
    public static func patchLength(_ length: Int, headAt at: Int, in out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(length).littleEndian) { bytes in
            for (index, byte) in bytes.enumerated() { out[at + 17 + index] = byte }
        }
    }

    public static func encode(_ record: Record) -> [UInt8] {
        var out: [UInt8] = []
        appendHead(kind: record.kind, time: record.time, offset: record.offset, length: record.payload.count, to: &out)
        out += record.payload
        return out
    }

    /// Microseconds since the epoch.
    public static func micros(_ time: Timestamp) -> Int64 { time.seconds * 1_000_000 + Int64(time.nanoseconds / 1000) }

    /// A value fed with a file's bytes in chunks (`append`), records out (`next`). After
    /// the magic, a record of an unknown kind or over `maxPayload` ends the readable part.
    public struct Parser: Sendable {
        private var buffer: [UInt8] = []
        private var start = 0
        private var sawMagic = false
        public private(set) var broken: String?

        public init() {}

        public mutating func append<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
            if start > 0 && start >= buffer.count / 2 {
                buffer.removeFirst(start)
                start = 0
            }
            buffer.append(contentsOf: bytes)
        }

        public mutating func next() -> Record? {
            guard broken == nil else { return nil }
            if !sawMagic {
                guard buffer.count - start >= magic.count else { return nil }
                guard Array(buffer[start..<start + magic.count]) == magic else {
                    broken = "not a recording (no RTTYREC1 at its start)"
                    return nil
                }
                start += magic.count
                sawMagic = true
            }
            guard buffer.count - start >= headSize else { return nil }
            guard let kind = Kind(rawValue: buffer[start]) else {
                broken = "unknown record kind \(buffer[start])"
                return nil
            }
            let time = Int64(littleEndian: load(Int64.self, at: start + 1))
            let offset = UInt64(littleEndian: load(UInt64.self, at: start + 9))
            let length = Int(UInt32(littleEndian: load(UInt32.self, at: start + 17)))
            guard length <= maxPayload else {
                broken = "a record of \(length) bytes (the most is \(maxPayload))"
                return nil
            }
            guard buffer.count - start - headSize >= length else { return nil }
            let body = start + headSize
            start = body + length
            return Record(kind: kind, time: time, offset: offset, payload: Array(buffer[body..<body + length]))
        }

        /// Bytes fed and not yet taken as records (a cut record at the end of a file).
        public var leftover: Int { buffer.count - start }

        private func load<T: FixedWidthInteger>(_: T.Type, at index: Int) -> T {
            var value = T.zero
            withUnsafeMutableBytes(of: &value) { raw in
                for i in 0..<MemoryLayout<T>.size { raw[i] = buffer[index + i] }
            }
            return value
        }
    }

    /// What a session file begins with: enough to title and size its asciicast.
    public struct Header: Equatable, Sendable {
        public var console: String
        public var session: String
        public var title: String
        public var width: Int
        public var height: Int

        public init(console: String, session: String, title: String, width: Int, height: Int) {
            self.console = console
            self.session = session
            self.title = title
            self.width = width
            self.height = height
        }

        public var payload: [UInt8] {
            var out: [UInt8] = []
            for number in [width, height] { withUnsafeBytes(of: UInt16(clamping: number).littleEndian) { out.append(contentsOf: $0) } }
            for text in [console, session, title] {
                let bytes = Array(text.utf8.prefix(Int(UInt16.max)))
                withUnsafeBytes(of: UInt16(bytes.count).littleEndian) { out.append(contentsOf: $0) }
                out += bytes
            }
            return out
        }

        public init?(payload: [UInt8]) {
            var index = 0
            func number() -> Int? {
                guard index + 2 <= payload.count else { return nil }
                defer { index += 2 }
                return Int(payload[index]) | Int(payload[index + 1]) << 8
            }
            func text() -> String? {
                guard let count = number(), index + count <= payload.count else { return nil }
                defer { index += count }
                return String(decoding: payload[index..<index + count], as: UTF8.self)
            }
            guard let width = number(), let height = number(), let console = text(), let session = text(), let title = text() else { return nil }
            self.init(console: console, session: session, title: title, width: width, height: height)
        }
    }

    /// One session's file, read whole: its header, the span it saw, its input.
    public struct Session: Sendable {
        public var header: Header
        public var started: Int64
        /// The output position when it began.
        public var startOffset: UInt64
        /// Where and when its view of the output began (nil: it never saw any).
        public var view: (time: Int64, offset: UInt64)?
        /// Where it ended (nil: still live, or the daemon died first).
        public var end: UInt64?
        /// Input and cut notes, in order.
        public var events: [Record] = []

        public init?(records: [Record]) {
            guard let first = records.first, first.kind == .header, let header = Header(payload: first.payload) else { return nil }
            self.header = header
            started = first.time
            startOffset = first.offset
            for record in records.dropFirst() {
                switch record.kind {
                case .view: view = (record.time, record.offset)
                case .end: end = record.offset
                case .input, .inputCut: events.append(record)
                case .header, .output: break
                }
            }
        }
    }

    /// Builds a session's asciicast v2 from its file and the console's output records (fed
    /// in order with `output`): the output in [view, end), shown no earlier than the view
    /// began (the replay it got at once), merged by time with its input. Times are made to
    /// go forward even if the wall clock stepped back.
    public struct CastAssembler: Sendable {
        private let session: Session
        private let limit: UInt64
        private var next = 0
        private var last = 0.0
        private var output = Asciicast.Stream()
        private var input = Asciicast.Stream()

        private let first: UInt64

        /// `recorded`: the recording's end now; `runStart`: where the daemon's current run
        /// of it began (a session with no end that began before it ended there, with the
        /// daemon before). At most `maxBytes` of output, the last of the span.
        public init(_ session: Session, recorded: UInt64, runStart: UInt64, maxBytes: UInt64) {
            self.session = session
            let limit = session.end ?? (session.startOffset < runStart ? runStart : recorded)
            self.limit = limit
            let view = session.view?.offset ?? limit
            first = max(view, limit > maxBytes ? limit - maxBytes : 0)
        }

        /// The output this session saw: read the records that overlap it.
        public var span: Range<UInt64> { first..<max(first, limit) }

        public func header(timestamp: Int) -> String {
            Asciicast.header(
                width: session.header.width, height: session.header.height, timestamp: timestamp,
                title: session.header.title, environment: [("TERM", "xterm")])
        }

        /// Event lines for one output record (and the input that came before it).
        public mutating func output(_ record: Record) -> String {
            guard record.kind == .output, let view = session.view else { return "" }
            var text = events(before: record.time)
            let first = record.offset, past = record.offset + UInt64(record.payload.count)
            guard past > self.first, first < limit else { return text }
            let from = Int(max(first, self.first) - first), to = Int(min(past, limit) - first)
            let quoted = output.quote(record.payload[from..<to])
            if quoted != "\"\"" { text += line(max(record.time, view.time), "o", quoted) }
            return text
        }

        /// The input after the last output.
        public mutating func finish() -> String { events(before: .max) }

        private mutating func events(before time: Int64) -> String {
            var text = ""
            while next < session.events.count, session.events[next].time <= time {
                let event = session.events[next]
                next += 1
                switch event.kind {
                case .input: text += line(event.time, "i", input.quote(event.payload))
                default:
                    var note = Asciicast.Stream()
                    text += line(event.time, "o", note.quote(Array("\r\n[rtty: ".utf8) + event.payload + Array("]\r\n".utf8)))
                }
            }
            return text
        }

        private mutating func line(_ time: Int64, _ kind: Character, _ quoted: String) -> String {
            let seconds = max(last, Double(time - session.started) / 1_000_000)
            last = seconds
            return Asciicast.event(seconds: seconds, kind: kind, quoted: quoted)
        }
    }
}
