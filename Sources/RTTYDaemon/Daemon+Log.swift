import RTTYCore
import RTTYSystem

/// `rttyctl log`: a console's log through the daemon, since the logs are root-only files
/// and members of the admin group may read them only so. The answer is one JSON line
/// ({"ok":true,"path":...}) and then the log's bytes as they are (rttyctl makes them safe
/// for a terminal), streamed as the peer reads; with follow, new output is sent as the file
/// grows, across rotations, until the peer hangs up.
extension Daemon {
    /// How far back the last lines are looked for.
    static let maxLogLookback: Int64 = 8 << 20
    static let followMilliseconds = 250

    /// `log`: the last `lines` lines (ControlRequest checked the bound), then with
    /// `follow` what comes.
    func consoleLog(_ name: String, lines: Int, follow: Bool) -> RequestAnswer {
        let running = config
        guard let console = running.console(named: name) else { return .line(ControlReply.error("no console \(name); rttyctl status lists them")) }
        guard console.log else { return .line(ControlReply.error("console \(name) keeps no log (log = false in the configuration)")) }
        let path = running.paths.logDir + "/" + name + ".log"
        let opened: ReadableFile
        let start: Int64
        do {
            opened = try ReadableFile(path)
            start = try Self.startOfLastLines(lines, in: opened)
        } catch {
            return .line(ControlReply.error("cannot read the log of \(name): \(error)"))
        }
        return .stream { writer in
            var (file, offset) = (opened, start)
            try await writer.write(ControlReply.success(ControlAnswer.LogHeader(path: path)))
            while true {
                // To the end of the file as it is now, then wait for more (or stop).
                while true {
                    let chunk = try file.read(at: offset, count: AnswerWriter.chunkBytes)
                    guard !chunk.isEmpty else { break }
                    offset += Int64(chunk.count)
                    try await writer.write(chunk)
                }
                guard follow, writer.isOpen else { return }
                try await Task.sleep(for: .milliseconds(Daemon.followMilliseconds))
                let now = try file.identity()
                if let there = ReadableFile.identity(at: path), there.inode != now.inode || there.device != now.device {
                    // Rotated: what the old file got last was read above; go on with the new one.
                    if let next = try? ReadableFile(path), now.size <= offset {
                        file = next
                        offset = 0
                    }
                } else if now.size < offset {
                    offset = 0  // truncated in place (copytruncate)
                }
            }
        }
    }

    /// Where the last `lines` lines of `file` begin (looking back at most maxLogLookback).
    static func startOfLastLines(_ lines: Int, in file: ReadableFile) throws(SystemError) -> Int64 {
        let size = try file.identity().size
        guard lines > 0 else { return size }
        var end = size
        var newlines = 0
        while end > max(0, size - maxLogLookback) {
            let start = max(0, end - Int64(AnswerWriter.chunkBytes))
            let chunk = try file.read(at: start, count: Int(end - start))
            for index in chunk.indices.reversed() where chunk[index] == 10 {
                // The newline that ends the file ends the last line; it does not begin one.
                if start + Int64(index) == size - 1 { continue }
                newlines += 1
                if newlines == lines { return start + Int64(index) + 1 }
            }
            end = start
        }
        return max(0, size - maxLogLookback)
    }
}
