/// Session transcripts in asciicast v2 (the format `asciinema play` reads): a JSON header
/// line, then one `[seconds, "o" | "i", "text"]` line per chunk of output or input.
public enum Asciicast {
    public static func header(width: Int, height: Int, timestamp: Int, title: String, environment: [(String, String)]) -> String {
        let env = JSON.object(environment.map { ($0.0, JSON.quote($0.1)) })
        return JSON.object([
            ("version", "2"), ("width", String(width)), ("height", String(height)), ("timestamp", String(timestamp)),
            ("title", JSON.quote(title)), ("env", env),
        ]) + "\n"
    }

    /// One event line; `quoted` is the data as a JSON string (see `Stream.quote`).
    public static func event(seconds: Double, kind: Character, quoted: String) -> String {
        let micros = Int((max(0, seconds) * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "[\(micros / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction), \"\(kind)\", \(quoted)]\n"
    }

    /// Bytes of one direction as JSON strings. A UTF-8 character split between two reads is
    /// held back until it is whole; bytes that are not UTF-8 become U+FFFD, as asciinema does.
    public struct Stream: Sendable {
        private var pending: [UInt8] = []

        public init() {}

        public mutating func quote<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String { "\"" + escape(bytes) + "\"" }

        /// The same without the quotes: one chunk of a JSON string sent in pieces.
        public mutating func escape<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
            var all = pending
            all.append(contentsOf: bytes)
            let whole = Self.completeLength(all)
            pending = Array(all[whole...])
            return JSON.escape(String(decoding: all[..<whole], as: UTF8.self))
        }

        /// How many bytes from the start end on a character boundary (an incomplete
        /// sequence of at most 3 bytes at the end is left out).
        static func completeLength(_ bytes: [UInt8]) -> Int {
            for back in stride(from: 1, through: min(3, bytes.count), by: 1) {
                let byte = bytes[bytes.count - back]
                if byte & 0xC0 == 0x80 { continue }  // continuation byte: look further back
                let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return needed > back ? bytes.count - back : bytes.count
            }
            return bytes.count
        }
    }
}
