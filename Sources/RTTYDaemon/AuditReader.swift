import FoundationEssentials
import RTTYCore
import RTTYSystem

/// Reads audit.jsonl line by line from its last `maxBytes`, in chunks: the file may be
/// large and is never held whole. Each line is decoded as an `AuditLine`; one that does not
/// decode (merged by a full disk, cut short, longer than `maxLine`) is skipped and counted.
enum AuditReader {
    static let maxLine = 64 * 1024

    /// Calls `body` with each record and where its line is (offset, length) in `file`;
    /// returns how many lines were skipped.
    static func scan(_ file: ReadableFile, maxBytes: Int, _ body: (AuditLine, Int64, Int) -> Void) throws(SystemError) -> Int {
        let size = try file.identity().size
        let decoder = JSONDecoder()
        var skipped = 0
        var offset = max(0, size - Int64(maxBytes))
        // Started inside the file: the first, partial line is not a record to count.
        var partialFirst = offset > 0
        var line: [UInt8] = []
        var lineStart = offset
        var tooLong = false
        func finish() {
            defer {
                line = []
                tooLong = false
            }
            if partialFirst {
                partialFirst = false
                return
            }
            guard !line.allSatisfy({ $0 == 32 || $0 == 13 }) || tooLong else { return }
            if !tooLong, let record = try? decoder.decode(AuditLine.self, from: Data(line)) {
                body(record, lineStart, line.count)
            } else {
                skipped += 1
            }
        }
        while offset < size {
            let chunk = try file.read(at: offset, count: min(AnswerWriter.chunkBytes, Int(size - offset)))
            guard !chunk.isEmpty else { break }
            var rest = chunk[...]
            while let newline = rest.firstIndex(of: 10) {
                append(rest[..<newline], to: &line, tooLong: &tooLong)
                finish()
                lineStart = offset + Int64(newline + 1)
                rest = rest[(newline + 1)...]
            }
            append(rest, to: &line, tooLong: &tooLong)
            offset += Int64(chunk.count)
        }
        if !line.isEmpty { finish() }  // no newline after it: cut short
        return skipped
    }

    private static func append(_ bytes: ArraySlice<UInt8>, to line: inout [UInt8], tooLong: inout Bool) {
        if line.count + bytes.count > maxLine { tooLong = true } else if !tooLong { line += bytes }
    }

    /// The session-start and session-end records of the last `maxBytes` of `path` (for the
    /// start-up recovery), and how many lines were skipped; a missing file has none.
    static func sessionBounds(_ path: String, maxBytes: Int) -> (records: [AuditLine], skipped: Int) {
        guard let file = try? ReadableFile(path) else { return ([], 0) }
        var records: [AuditLine] = []
        let skipped =
            (try? scan(file, maxBytes: maxBytes) { record, _, _ in
                if record.kind == .sessionStart || record.kind == .sessionEnd { records.append(record) }
            }) ?? 0
        return (records, skipped)
    }
}
