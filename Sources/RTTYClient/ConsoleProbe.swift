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
        switch ConsoleProbe.ask(path: path) {
        case .unreachable:
            return Entry(name: name, state: "no daemon", detail: "")
        case .closed:
            return Entry(name: name, state: "no answer", detail: "")
        case .answered(let fields):
            return Entry(name: name, state: fields["state"] ?? "?", detail: (fields["settings"] ?? "").replacingCommas())
        }
    }
}

/// One rtty/1 probe of a console socket: HELLO with `probe`, the daemon's HELLO answer, close.
/// The daemon decides from the peer's credentials, so the answer (or its refusal) is the
/// daemon's view of this user, not the caller's.
public enum ConsoleProbe {
    public enum Answer: Sendable {
        /// The daemon answered: rights, state, clients, settings.
        case answered(HelloReply)
        /// The daemon closed without a HELLO (access denied, console full); its last notice.
        case closed(notice: String?)
        /// Nothing to connect to, or the connection was refused.
        case unreachable
    }

    /// Waits at most `timeoutMilliseconds` for each read.
    public static func ask(path: String, timeoutMilliseconds: Int = 2000) -> Answer {
        guard let fd = try? UnixSocket.connect(path: path) else { return .unreachable }
        defer { try? fd.close() }
        _ = try? Frame.withText(.hello, "\(RTTYVersion.protocolName) probe").encoded().withUnsafeBytes { try fd.writeAll($0) }
        var parser = FrameParser(direction: .toClient)
        var chunk = [UInt8](repeating: 0, count: 4096)
        var notice: String?
        for _ in 0..<32 {
            guard Poll.readable(fd, timeoutMilliseconds: timeoutMilliseconds),
                let n = try? chunk.withUnsafeMutableBytes({ try fd.read(into: $0) }), n > 0
            else { break }
            parser.append(chunk.prefix(n))
            while let frame = try? parser.next() {
                if frame.kind == .hello { return .answered(HelloReply(frame.text)) }
                if frame.kind == .notice { notice = frame.text }
            }
        }
        return .closed(notice: notice)
    }
}

extension String {
    func replacingCommas() -> String { String(map { $0 == "," ? " " : $0 }) }
}
