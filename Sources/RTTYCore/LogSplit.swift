/// Where built-in rotation (`log_max_bytes`) splits console output between two files, so
/// that no file passes the limit by more than the rest of one line: a file ends at the
/// last line end that fits; a line that starts in a file may finish there (up to one limit
/// more), and a line that starts at a file's line start with no room goes to the next file.
public enum LogSplit {
    /// How many of `bytes` go into the current file before it is rotated (0: rotate first).
    /// Never 0 for an empty file, so writing always moves on.
    public static func take(_ bytes: UnsafeRawBufferPointer, size: Int, limit: Int, atLineStart: Bool) -> Int {
        let room = max(limit - size, 0)
        if bytes.count <= room { return bytes.count }
        if let newline = lastNewline(bytes, before: room) { return newline + 1 }
        if size > 0 && atLineStart { return 0 }
        // Finish the line already begun (or, in an empty file, the first line), unless it
        // is longer than a whole file: then it is cut at the limit.
        let end = min(bytes.count, room + limit)
        if let newline = firstNewline(bytes, from: room, before: end) { return newline + 1 }
        return size == 0 ? max(room, 1) : room
    }

    private static func lastNewline(_ bytes: UnsafeRawBufferPointer, before end: Int) -> Int? {
        var index = end - 1
        while index >= 0 {
            if bytes[index] == 10 { return index }
            index -= 1
        }
        return nil
    }

    private static func firstNewline(_ bytes: UnsafeRawBufferPointer, from start: Int, before end: Int) -> Int? {
        var index = start
        while index < end {
            if bytes[index] == 10 { return index }
            index += 1
        }
        return nil
    }
}
