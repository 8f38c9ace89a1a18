/// The telnet side of a console's TCP port (`tcp_mode = "telnet"`): the byte-stream parser
/// (RFC 854: IAC commands, option negotiation, subnegotiation), IAC escaping, and the
/// server's option policy (RFC 1143-style: answer only when a state changes, so two
/// agreeing sides never loop).
public enum Telnet {
    public static let IAC: UInt8 = 255, DONT: UInt8 = 254, DO: UInt8 = 253, WONT: UInt8 = 252, WILL: UInt8 = 251
    public static let SB: UInt8 = 250, SE: UInt8 = 240, BRK: UInt8 = 243, IP: UInt8 = 244, AYT: UInt8 = 246, NOP: UInt8 = 241

    public enum Option {
        public static let binary: UInt8 = 0
        public static let echo: UInt8 = 1
        public static let suppressGoAhead: UInt8 = 3
        public static let comPort: UInt8 = 44
    }

    /// The longest subnegotiation accepted; RFC 2217's longest is a signature text.
    public static let maxSubnegotiation = 512

    public enum Event: Equatable, Sendable {
        case data([UInt8])
        /// A two-byte command such as BRK, IP, AYT, NOP.
        case command(UInt8)
        case negotiate(verb: UInt8, option: UInt8)
        case subnegotiation(option: UInt8, payload: [UInt8])
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Incremental: sequences may be split anywhere between reads.
    public struct Parser: Sendable {
        private enum State: Sendable { case data, iac, verb(UInt8), sb, sbData, sbIAC }
        private var state = State.data
        private var sbOption: UInt8 = 0
        private var sbPayload: [UInt8] = []
        /// CR NUL means CR (RFC 854) unless the client sends BINARY.
        private var afterCR = false
        public var binaryInput = false

        public init() {}

        public mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) throws(Failure) -> [Event] {
            var events: [Event] = []
            var data: [UInt8] = []
            func flush() {
                if !data.isEmpty {
                    events.append(.data(data))
                    data.removeAll()
                }
            }
            for byte in bytes {
                switch state {
                case .data:
                    if byte == Telnet.IAC {
                        state = .iac
                    } else {
                        if !(afterCR && byte == 0 && !binaryInput) { data.append(byte) }
                        afterCR = byte == 13
                    }
                case .iac:
                    afterCR = false
                    switch byte {
                    case Telnet.IAC:
                        data.append(Telnet.IAC)
                        state = .data
                    case Telnet.WILL, Telnet.WONT, Telnet.DO, Telnet.DONT:
                        state = .verb(byte)
                    case Telnet.SB:
                        state = .sb
                    case Telnet.SE:
                        throw Failure(description: "IAC SE without IAC SB")
                    default:
                        flush()
                        events.append(.command(byte))
                        state = .data
                    }
                case .verb(let verb):
                    flush()
                    events.append(.negotiate(verb: verb, option: byte))
                    state = .data
                case .sb:
                    sbOption = byte
                    sbPayload = []
                    state = .sbData
                case .sbData:
                    if byte == Telnet.IAC {
                        state = .sbIAC
                    } else {
                        sbPayload.append(byte)
                        guard sbPayload.count <= Telnet.maxSubnegotiation else {
                            throw Failure(description: "subnegotiation longer than \(Telnet.maxSubnegotiation) bytes")
                        }
                    }
                case .sbIAC:
                    switch byte {
                    case Telnet.IAC:
                        sbPayload.append(Telnet.IAC)
                        state = .sbData
                    case Telnet.SE:
                        flush()
                        events.append(.subnegotiation(option: sbOption, payload: sbPayload))
                        sbPayload = []
                        state = .data
                    default:
                        throw Failure(description: "IAC \(byte) inside a subnegotiation (expected IAC SE)")
                    }
                }
            }
            flush()
            return events
        }
    }

    /// IAC doubled, for data sent to a telnet client.
    public static func escape<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        for byte in bytes {
            out.append(byte)
            if byte == IAC { out.append(IAC) }
        }
        return out
    }

    public static func subnegotiation(option: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [IAC, SB, option] + escape(payload) + [IAC, SE]
    }

    /// The server's side of option negotiation. It offers and accepts BINARY both ways,
    /// WILL ECHO and SGA both ways (a serial console echoes itself and has no go-ahead),
    /// and COM-PORT-OPTION (RFC 2217) both ways; everything else is refused.
    public struct Negotiator: Sendable {
        static let weWill: Set<UInt8> = [Option.binary, Option.echo, Option.suppressGoAhead, Option.comPort]
        static let theyMay: Set<UInt8> = [Option.binary, Option.suppressGoAhead, Option.comPort]

        private var ours: [UInt8: Bool] = [:]
        private var theirs: [UInt8: Bool] = [:]

        public init() {}

        /// What the server sends first: its offers, marked as already requested.
        public mutating func opening() -> [UInt8] {
            var out: [UInt8] = []
            for option in [Option.echo, Option.suppressGoAhead, Option.binary] {
                ours[option] = true
                out += [IAC, WILL, option]
            }
            for option in [Option.suppressGoAhead, Option.binary] {
                theirs[option] = true
                out += [IAC, DO, option]
            }
            return out
        }

        public func isOn(ours option: UInt8) -> Bool { ours[option] ?? false }
        public func isOn(theirs option: UInt8) -> Bool { theirs[option] ?? false }

        /// The reply to a WILL/WONT/DO/DONT, or nothing when the state already matches.
        public mutating func handle(verb: UInt8, option: UInt8) -> [UInt8] {
            switch verb {
            case DO:
                let accept = Negotiator.weWill.contains(option)
                if accept == isOn(ours: option) && (accept || ours[option] != nil) { return [] }
                ours[option] = accept
                return [IAC, accept ? WILL : WONT, option]
            case DONT:
                guard isOn(ours: option) else { return [] }
                ours[option] = false
                return [IAC, WONT, option]
            case WILL:
                let accept = Negotiator.theyMay.contains(option)
                if accept == isOn(theirs: option) && (accept || theirs[option] != nil) { return [] }
                theirs[option] = accept
                return [IAC, accept ? DO : DONT, option]
            case WONT:
                guard isOn(theirs: option) else { return [] }
                theirs[option] = false
                return [IAC, DONT, option]
            default:
                return []
            }
        }
    }
}
