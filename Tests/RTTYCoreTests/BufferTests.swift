import Testing
@testable import RTTYCore

@Suite struct ReplayRingTests {
    @Test func keepsTheNewestBytesAcrossWraparound() {
        var ring = ReplayRing(capacity: 8)
        ring.append(contentsOf: Array("abcde".utf8))
        #expect(ring.contents() == Array("abcde".utf8))
        ring.append(contentsOf: Array("fghij".utf8))
        #expect(ring.contents() == Array("cdefghij".utf8))
        #expect(ring.last(3) == Array("hij".utf8))
        ring.append(contentsOf: Array("0123456789ABC".utf8))
        #expect(ring.contents() == Array("56789ABC".utf8))
        #expect(ring.count == 8)
    }

    /// Random chunk sizes against a plain model (the tail of everything appended), through
    /// the growing phase, the append that fills it and straddles the end, and the ring.
    @Test func matchesTheTailOfEverythingAppended() {
        var generator = SystemRandomNumberGenerator()
        for capacity in [1, 7, 64, 1000] {
            var ring = ReplayRing(capacity: capacity)
            var all: [UInt8] = []
            for step in 0..<200 {
                // Mostly small chunks (a ring filling up), now and then more than it holds.
                let most = step % 5 == 4 ? capacity * 2 + 1 : capacity / 3 + 1
                let chunk = (0..<Int.random(in: 0...most, using: &generator)).map { UInt8(truncatingIfNeeded: step &+ $0) }
                ring.append(contentsOf: chunk)
                all += chunk
                #expect(ring.contents() == Array(all.suffix(capacity)), "capacity \(capacity), step \(step)")
                #expect(ring.allocatedBytes <= max(capacity, 16) * 2)
            }
        }
    }

    @Test func anIdleRingHoldsNoMemory() {
        var ring = ReplayRing(capacity: 65536)
        #expect(ring.allocatedBytes == 0)
        ring.append(contentsOf: Array("boot".utf8))
        #expect(ring.allocatedBytes < 1024)
    }

    @Test func zeroCapacityKeepsNothing() {
        var ring = ReplayRing(capacity: 0)
        ring.append(contentsOf: Array("abc".utf8))
        #expect(ring.contents().isEmpty)
    }

    @Test func resizeKeepsNewest() {
        var ring = ReplayRing(capacity: 10)
        ring.append(contentsOf: Array("0123456789".utf8))
        ring.resize(capacity: 4)
        #expect(ring.contents() == Array("6789".utf8))
        ring.resize(capacity: 6)
        ring.append(contentsOf: Array("ab".utf8))
        #expect(ring.contents() == Array("6789ab".utf8))
    }
}

@Suite struct LogStamperTests {
    let noon = Timestamp(seconds: 1_795_000_000, nanoseconds: 123_456_789)

    @Test func isoFormat() {
        #expect(Timestamp(seconds: 0, nanoseconds: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(seconds: 951_782_400, nanoseconds: 5_000_000).iso8601 == "2000-02-29T00:00:00.005Z")
        #expect(noon.iso8601 == "2026-11-18T11:06:40.123Z")
    }

    @Test func chunkBoundariesDoNotMatter() {
        let text = Array("line one\nline two\n\npartial".utf8)
        var whole = LogStamper(timestamps: true)
        var expected: [UInt8] = []
        text.withUnsafeBytes { whole.stamp($0, now: noon, into: &expected) }
        #expect(String(decoding: expected, as: UTF8.self).components(separatedBy: "[2026-11-18T11:06:40.123Z] ").count == 5)
        for split in 0...text.count {
            var stamper = LogStamper(timestamps: true)
            var out: [UInt8] = []
            text[..<split].withUnsafeBytes { stamper.stamp($0, now: noon, into: &out) }
            text[split...].withUnsafeBytes { stamper.stamp($0, now: noon, into: &out) }
            #expect(out == expected, "split at \(split)")
        }
    }

    /// The word-at-a-time newline search against a byte-by-byte one, at every offset and
    /// alignment, with newlines, 0x0A-adjacent bytes and high bytes around.
    @Test func newlineSearchMatchesAPlainScan() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let length = Int.random(in: 0...70, using: &generator)
            let alphabet: [UInt8] = [0x0A, 0x0B, 0x09, 0x8A, 0xFF, 0x00, 0x41]
            let bytes = (0..<length).map { _ in
                Int.random(in: 0..<6, using: &generator) == 0 ? 0x0A : alphabet[Int.random(in: 1..<alphabet.count, using: &generator)]
            }
            bytes.withUnsafeBytes { chunk in
                for start in 0...length {
                    let expected = bytes[start...].firstIndex(of: 0x0A) ?? length
                    #expect(LogStamper.newline(in: chunk, from: start) == expected, "\(bytes) from \(start)")
                }
            }
        }
    }

    @Test func withoutTimestampsBytesPassUnchanged() {
        var stamper = LogStamper(timestamps: false)
        var out: [UInt8] = []
        let raw: [UInt8] = [0, 1, 10, 13, 255]
        raw.withUnsafeBytes { stamper.stamp($0, now: noon, into: &out) }
        #expect(out == raw)
    }

    @Test func markersStandOnTheirOwnLine() {
        var stamper = LogStamper(timestamps: false)
        var out: [UInt8] = []
        Array("login: ".utf8).withUnsafeBytes { stamper.stamp($0, now: noon, into: &out) }
        out += stamper.marker("BREAK", now: noon)
        #expect(String(decoding: out, as: UTF8.self) == "login: \n[rtty: BREAK]\n")
    }
}
