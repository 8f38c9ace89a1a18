/// A wall-clock instant, passed into the core so that formatting is testable.
public struct Timestamp: Equatable, Sendable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// "2026-11-25T03:35:50.123Z" (UTC, milliseconds).
    public var iso8601: String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = Timestamp.civil(fromDays: days)
        let ms = Int(nanoseconds / 1_000_000)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(ms, 3))Z"
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Proleptic Gregorian date from days since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(fromDays z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}

/// Turns console output into console-log bytes: with timestamps on, "[<ISO-8601>] " at the
/// start of every line; chunk boundaries do not matter. Markers ("[rtty: BREAK]") always
/// stand on a line of their own.
public struct LogStamper: Sendable {
    public let timestamps: Bool
    public private(set) var atLineStart = true
    /// "[<ISO-8601>] " of the last millisecond stamped: output arrives in many reads per
    /// millisecond during a firehose, and formatting is the costly part.
    private var prefix: [UInt8] = []
    private var prefixMillisecond: Int64 = .min

    public init(timestamps: Bool) {
        self.timestamps = timestamps
    }

    private mutating func prefix(for now: Timestamp) -> [UInt8] {
        let millisecond = now.seconds &* 1000 &+ Int64(now.nanoseconds / 1_000_000)
        if millisecond != prefixMillisecond {
            prefix = Array("[\(now.iso8601)] ".utf8)
            prefixMillisecond = millisecond
        }
        return prefix
    }

    public mutating func stamp(_ chunk: UnsafeRawBufferPointer, now: Timestamp, into out: inout [UInt8]) {
        guard chunk.count > 0 else { return }
        guard timestamps else {
            out.append(contentsOf: chunk)
            atLineStart = chunk[chunk.count - 1] == UInt8(ascii: "\n")
            return
        }
        let prefix = prefix(for: now)
        var start = 0
        out.reserveCapacity(out.count + chunk.count + 64)
        while start < chunk.count {
            if atLineStart {
                out.append(contentsOf: prefix)
                atLineStart = false
            }
            var end = Self.newline(in: chunk, from: start)
            if end < chunk.count {
                end += 1
                atLineStart = true
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[start..<end]))
            start = end
        }
    }

    /// Index of the first "\n" at or after `start`, or `chunk.count`. Eight bytes per step
    /// (a word-at-a-time zero-byte test): console output is mostly short lines, and this
    /// scan is the whole cost of timestamps.
    static func newline(in chunk: UnsafeRawBufferPointer, from start: Int) -> Int {
        let count = chunk.count
        var index = start
        if let base = chunk.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            let newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
            while index + 8 <= count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ newlines
                // The lowest flagged byte is always a real zero (a "\n" in the input).
                let found = (word &- ones) & ~word & highs
                if found != 0 { return index + found.trailingZeroBitCount / 8 }
                index += 8
            }
        }
        while index < count && chunk[index] != UInt8(ascii: "\n") { index += 1 }
        return index
    }

    /// "[rtty: <text>]" on its own line, timestamped when timestamps are on.
    public mutating func marker(_ text: String, now: Timestamp) -> [UInt8] {
        var line = atLineStart ? "" : "\n"
        if timestamps { line += "[\(now.iso8601)] " }
        line += "[rtty: \(text)]\n"
        atLineStart = true
        return Array(line.utf8)
    }
}
