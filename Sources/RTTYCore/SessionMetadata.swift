/// A METADATA frame ("KEY=value" lines, sent by rtty-shell: SSH_CONNECTION, SSH_TTY, TERM,
/// COMMAND). All of it is what the client *claims*: any local user with a grant can run
/// rtty-shell by hand, or speak the protocol itself, and say anything. So every value is
/// sanitized (`ClientText`) and SSH_CONNECTION is kept only if it has its syntax; the
/// daemon records it as `claimed_from`, never as a verified address.
public struct SessionMetadata: Equatable, Sendable {
    public static let maxKeys = 32
    public static let maxKeyLength = 64
    public static let maxValueBytes = 512
    /// Problems reported back to the client (and into the audit record), at most this many.
    static let maxProblems = 4

    /// Sanitized values by key; keys are letters, digits and `_` only.
    public private(set) var values: [String: String] = [:]
    /// What was wrong and dropped, in words for the client and the audit record.
    public private(set) var problems: [String] = []

    public init(payload: [UInt8]) {
        for line in payload.split(separator: UInt8(ascii: "\n")) {
            guard let eq = line.firstIndex(of: UInt8(ascii: "=")) else {
                note("metadata line without '=' ignored")
                continue
            }
            let keyBytes = line[..<eq]
            let key = ClientText.sanitized(keyBytes, limit: Self.maxKeyLength + 1)
            guard (1...Self.maxKeyLength).contains(keyBytes.count), keyBytes.allSatisfy(Self.isKeyByte) else {
                note("metadata key \(key) ignored: expected 1 to \(Self.maxKeyLength) letters, digits or _")
                continue
            }
            guard values.count < Self.maxKeys || values[key] != nil else {
                note("more than \(Self.maxKeys) metadata keys; the rest ignored")
                break
            }
            values[key] = ClientText.sanitized(line[line.index(after: eq)...], limit: Self.maxValueBytes)
        }
        if let connection = values["SSH_CONNECTION"], Self.clientAddress(connection) == nil {
            values["SSH_CONNECTION"] = nil
            note("SSH_CONNECTION \"\(connection)\" ignored: expected \"ADDRESS PORT ADDRESS PORT\" (IPv4 or IPv6, ports 1-65535)")
        }
    }

    private mutating func note(_ problem: String) {
        if problems.count < Self.maxProblems { problems.append(problem) }
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// The client's "address port" the session claims to come from (SSH_CONNECTION).
    public var claimedFrom: String? { values["SSH_CONNECTION"].flatMap(Self.clientAddress) }

    /// The claims an audit record keeps, in a fixed order.
    public var auditDetails: [(String, String)] {
        var details: [(String, String)] = []
        if let claimedFrom { details.append(("claimed_from", claimedFrom)) }
        // AGENT: `rtty mcp` says an agent drives the session; a claim like the rest, so the
        // record names it claimed_agent.
        for (key, name) in [("SSH_TTY", "ssh_tty"), ("TERM", "term"), ("COMMAND", "command"), ("AGENT", "claimed_agent")] {
            if let value = values[key] { details.append((name, value)) }
        }
        if !problems.isEmpty { details.append(("problems", problems.joined(separator: "; "))) }
        return details
    }

    /// "10.0.0.7 51234" from an SSH_CONNECTION value ("client port server port"); nil
    /// unless it is exactly two addresses and two ports.
    public static func clientAddress(_ connection: String) -> String? {
        let parts = connection.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 4, isAddress(parts[0]), isPort(parts[1]), isAddress(parts[2]), isPort(parts[3]) else { return nil }
        return "\(parts[0]) \(parts[1])"
    }

    private static func isAddress(_ text: Substring) -> Bool {
        !text.hasPrefix("[") && IPNetwork.address(String(text)) != nil
    }

    private static func isPort(_ text: Substring) -> Bool {
        (1...5).contains(text.count) && text.allSatisfy { ("0"..."9").contains($0) } && (1...65_535).contains(Int(text) ?? 0)
    }
}
