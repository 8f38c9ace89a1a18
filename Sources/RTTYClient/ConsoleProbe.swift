import NIOCore
import NIOPosix
import RTTYCore
import RTTYSession
import RTTYSystem
import SystemPackage

/// `rtty` with no console: what is in the socket directory and whether it is up.
public enum ConsoleList {
    public struct Entry: Sendable {
        public let name: String
        public let state: String
        public let detail: String
    }

    /// The console sockets in the directory, by name (not the control or dot sockets).
    public static func names(socketDir: String) throws(SystemError) -> [String] {
        try Files.list(socketDir).filter { $0 != "control" && !$0.hasPrefix(".") && Files.isSocket(socketDir + "/" + $0) }
    }

    public static func entries(socketDir: String, all: Bool) throws(SystemError) -> [Entry] {
        // rttyd closes a connection it refuses before reading a byte: the probe's HELLO
        // then fails with EPIPE, which must not kill the program (it did: exit 13).
        Signals.ignoreBrokenPipe()
        var entries: [Entry] = []
        for name in try names(socketDir: socketDir) {
            let path = socketDir + "/" + name
            guard Files.canReadWrite(path) else {
                if all { entries.append(Entry(name: name, state: "no access", detail: "")) }
                continue
            }
            entries.append(probe(name: name, path: path))
        }
        return entries
    }

    /// Asks the daemon for the console's state with an rtty/1 probe (not announced to others).
    static func probe(name: String, path: String) -> Entry {
        guard let fd = try? UnixSocket.connect(path: path) else {
            return Entry(name: name, state: "no daemon", detail: "")
        }
        defer { try? fd.close() }
        _ = try? Frame.withText(.hello, "\(RTTYVersion.protocolName) probe").encoded().withUnsafeBytes { try fd.writeAll($0) }
        var parser = FrameParser(direction: .toClient)
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<32 {
            guard Poll.readable(fd, timeoutMilliseconds: 2000),
                let n = try? chunk.withUnsafeMutableBytes({ try fd.read(into: $0) }), n > 0
            else { break }
            parser.append(chunk.prefix(n))
            while let frame = try? parser.next() {
                guard frame.kind == .hello else { continue }
                let fields = HelloReply(frame.text)
                let settings = (fields["settings"] ?? "").replacingCommas()
                return Entry(name: name, state: fields["state"] ?? "?", detail: settings)
            }
        }
        return Entry(name: name, state: "no answer", detail: "")
    }
}

extension String {
    func replacingCommas() -> String { String(map { $0 == "," ? " " : $0 }) }
}
