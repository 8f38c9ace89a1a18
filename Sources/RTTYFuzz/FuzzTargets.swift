import RTTYCore

/// The parsers that read untrusted bytes, as fuzz targets: each takes any input and must
/// return (errors are fine) without crashing, hanging or growing without bound. Used by the
/// libFuzzer build (`scripts/fuzz`) and, on the checked-in corpus and every crash ever
/// found, by the normal test suite.
public enum FuzzTargets {
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "frames": frames, "config": config, "acl": acl, "shell": shell, "escapes": escapes, "telnet": telnet,
    ]

    /// Client-to-server and server-to-client frame streams, fed in two pieces.
    public static func frames(_ input: [UInt8]) {
        for direction in [Direction.toServer, .toClient] {
            var parser = FrameParser(direction: direction, maxPayload: Frame.extendedMaxPayload)
            let cut = input.isEmpty ? 0 : Int(input[0]) % (input.count + 1)
            for piece in [input[..<cut], input[cut...]] {
                parser.append(piece)
                while let frame = try? parser.next() {
                    if direction == .toServer { _ = ClientRequest.decode(frame) }
                }
            }
        }
    }

    /// The key index also on text toml++ refuses (the parser uses it only on text it took).
    public static func config(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        _ = try? ConfigParser.parse(text, file: "fuzz.conf")
        _ = TOMLKeyLines(text)
    }

    public static func acl(_ input: [UInt8]) {
        let list = AccessList(parsing: String(decoding: input, as: UTF8.self), file: "fuzz.access")
        for (user, groups, console) in [("vixie", ["ops"], "pbx"), ("root", [], "lab1"), ("", [], "")] {
            _ = list.decide(user: user, groups: groups, console: console)
        }
        if let grantee = try? AccessEdit.Grantee("vixie", groups: ["ops"]) {
            let text = String(decoding: input, as: UTF8.self)
            _ = try? AccessEdit.grant(text, grantee: grantee, consoles: ["pbx"], rights: .rw, note: "fuzz")
            _ = try? AccessEdit.revoke(text, grantee: grantee, consoles: nil, known: ["pbx", "lab1"], note: "fuzz")
        }
    }

    /// What sshd can hand rtty-shell: `-c COMMAND` and SSH_ORIGINAL_COMMAND, then a menu answer.
    public static func shell(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let parts = text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        _ = ShellRequest.parse(arguments: ["rtty-shell", "-c", parts[0]], originalCommand: parts.count > 1 ? parts[1] : nil)
        _ = ShellRequest.parse(arguments: ["-rtty-shell"] + parts, originalCommand: nil)
        _ = ConsoleChoice.pick(parts.last ?? "", from: ["pbx", "util", "lab1"])
    }

    public static func escapes(_ input: [UInt8]) {
        for restricted in [false, true] {
            var machine = EscapeMachine(restricted: restricted)
            _ = machine.feed(input)
        }
    }

    /// Telnet from a TCP client, with RFC 2217 requests inside.
    public static func telnet(_ input: [UInt8]) {
        var parser = Telnet.Parser()
        var negotiator = Telnet.Negotiator()
        _ = negotiator.opening()
        guard let events = try? parser.feed(input) else { return }
        for event in events {
            switch event {
            case .negotiate(let verb, let option): _ = negotiator.handle(verb: verb, option: option)
            case .subnegotiation(_, let payload): _ = ComPort.parse(payload)
            default: break
            }
        }
        _ = Telnet.escape(input)
    }
}
