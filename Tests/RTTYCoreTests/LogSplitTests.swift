import Testing
@testable import RTTYCore

/// Built-in rotation, as a model: output split into files by `LogSplit.take` never passes
/// the limit by more than the rest of one line, and loses or repeats nothing.
@Suite struct LogSplitTests {
    /// Feeds `chunks` into files of `limit` bytes the way ConsoleLog does.
    func files(_ chunks: [[UInt8]], limit: Int) -> [[UInt8]] {
        var files: [[UInt8]] = [[]]
        for chunk in chunks {
            var rest = chunk[...]
            while !rest.isEmpty {
                let current = files[files.count - 1]
                let n = Array(rest).withUnsafeBytes {
                    LogSplit.take($0, size: current.count, limit: limit, atLineStart: current.last.map { $0 == 10 } ?? true)
                }
                if n == 0 {
                    files.append([])
                    continue
                }
                files[files.count - 1] += rest.prefix(n)
                rest = rest.dropFirst(n)
                if !rest.isEmpty { files.append([]) }
            }
        }
        return files
    }

    func lines(_ count: Int, width: Int = 40) -> [UInt8] {
        (0..<count).flatMap { Array(String(format: "%0\(width - 1)d", $0).utf8) + [10] }
    }

    @Test func aBurstIsSplitAtLineEndsWithinTheLimit() {
        // One burst of 13 KB into 2,000-byte files (it used to go whole into one file).
        let burst = lines(330)
        let out = files([burst], limit: 2000)
        #expect(out.joined().elementsEqual(burst))
        #expect(out.count >= 6)
        for file in out {
            #expect(file.count <= 2000)
            #expect(file.last == 10)
        }
    }

    @Test func aLineBegunInAFileFinishesThere() {
        // 1,990 bytes without a line end, then a burst: the line finishes in the first file.
        let start = Array(repeating: UInt8(ascii: "a"), count: 1990)
        let burst = Array("bcdefghijklmnopqrstuvwxyz\n".utf8) + lines(100)
        let out = files([start, burst], limit: 2000)
        #expect(out.joined().elementsEqual(start + burst))
        #expect(out[0].count == 1990 + 26)
        for file in out.dropFirst() { #expect(file.count <= 2000) }
    }

    @Test func aLineLongerThanAFileIsCut() {
        let long = Array(repeating: UInt8(ascii: "x"), count: 9000) + [10]
        let out = files([lines(10), long, lines(10)], limit: 2000)
        #expect(out.joined().elementsEqual(lines(10) + long + lines(10)))
        for file in out { #expect(file.count <= 4000) }
        // The long line started in a fresh file rather than after the first ten lines.
        #expect(out[0].elementsEqual(lines(10)))
    }

    @Test func smallWritesNeverPassTheLimitByMoreThanOneLine() {
        var chunks: [[UInt8]] = []
        var seed: UInt64 = 7
        for _ in 0..<2000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(seed >> 58) + 1
            chunks.append(Array(repeating: UInt8(ascii: "z"), count: length - 1) + (seed & 1 == 0 ? [10] : [UInt8(ascii: "y")]))
        }
        let out = files(chunks, limit: 500)
        #expect(out.joined().elementsEqual(chunks.joined()))
        for file in out {
            let lastLineStart = (file.dropLast().lastIndex(of: 10) ?? -1) + 1
            #expect(lastLineStart <= 500, "a file of \(file.count) bytes")
        }
    }
}
