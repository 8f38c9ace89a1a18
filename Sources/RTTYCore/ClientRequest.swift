/// What a client asked for, decoded from one frame. The daemon executes these; the
/// decoding (and the rules about what each frame may carry) lives here so it is tested
/// without I/O.
public enum ClientRequest: Equatable, Sendable {
    case input([UInt8])
    case setBaud(Int)
    case queryBaud
    case setParity(String)
    case queryParity
    case setWordSize(Int)
    case queryWordSize
    case sendBreak
    case identify(String)
    case queryWho
    case queryTail
    case queryVersion
    // rtty/1 extensions
    case hello(HelloRequest)
    case querySettings
    case setSettings(String)
    case metadata(SessionMetadata)
    case windowSize(rows: Int, cols: Int)
    case takeWriteLock
    case releaseWriteLock
    case replay
    /// A frame that is valid on the wire but means nothing to a console socket (LOGIN,
    /// PASSWD, server-only types); answered with a notice, never fatal.
    case ignored(String)

    /// The longest WHOSON text kept; longer ones are cut (it is shown to other users).
    public static let maxIdentityLength = 128

    public static func decode(_ frame: Frame) -> ClientRequest {
        switch (frame.kind, frame.query) {
        case (.data, _): return .input(frame.payload)
        case (.baud, false): return .setBaud(Int(frame.value))
        case (.baud, true): return .queryBaud
        case (.parity, false): return .setParity(frame.text)
        case (.parity, true): return .queryParity
        case (.wordSize, false): return .setWordSize(Int(frame.value))
        case (.wordSize, true): return .queryWordSize
        case (.breakSignal, _): return .sendBreak
        case (.whosOn, false): return .identify(sanitizedIdentity(frame.payload))
        case (.whosOn, true): return .queryWho
        case (.tail, _): return .queryTail
        case (.version, _): return .queryVersion
        case (.hello, _): return .hello(HelloRequest(frame.text))
        case (.settings, true): return .querySettings
        case (.settings, false): return .setSettings(frame.text)
        case (.metadata, _): return .metadata(SessionMetadata(payload: frame.payload))
        case (.windowSize, _):
            guard frame.payload.count == 4 else { return .ignored("window size frame must carry 4 bytes") }
            let p = frame.payload
            return .windowSize(rows: Int(p[0]) << 8 | Int(p[1]), cols: Int(p[2]) << 8 | Int(p[3]))
        case (.writeLock, _):
            switch frame.text {
            case "take": return .takeWriteLock
            case "release": return .releaseWriteLock
            default: return .ignored("write lock frame must say take or release")
            }
        case (.replay, _): return .replay
        case (.login, _), (.password, _):
            return .ignored("no login is needed on a local console socket")
        case (.notice, _), (.error, _), (.result, _):
            return .ignored("\(frame.kind) frames are sent by the server only")
        }
    }

    /// Printable ASCII without spaces (the text is echoed to every other client and shown
    /// by `rttyctl who`), bounded.
    static func sanitizedIdentity(_ bytes: [UInt8]) -> String {
        ClientText.sanitized(bytes, limit: maxIdentityLength, spaces: false)
    }
}

/// The flags of an rtty/1 HELLO: "rtty/1 ro noreplay probe".
public struct HelloRequest: Equatable, Sendable {
    public var protocolName: String
    public var readOnly = false
    public var noReplay = false
    public var probe = false

    public init(_ text: String) {
        let words = text.split(separator: " ").map(String.init)
        protocolName = words.first ?? ""
        for word in words.dropFirst() {
            switch word {
            case "ro": readOnly = true
            case "noreplay": noReplay = true
            case "probe": probe = true
            default: continue  // unknown flags are ignored so newer clients still work
            }
        }
    }

    public var isSupported: Bool { protocolName == RTTYVersion.protocolName }
}
