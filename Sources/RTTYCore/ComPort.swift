/// RFC 2217 COM-PORT-OPTION requests a client sends inside IAC SB 44 ... IAC SE, and the
/// server's replies (the request code + 100).
public enum ComPort {
    public enum Request: Equatable, Sendable {
        case signature([UInt8])
        /// 0 = query.
        case setBaud(UInt32)
        case setDataSize(UInt8)
        case setParity(UInt8)
        case setStopSize(UInt8)
        case setControl(UInt8)
        case notifyLineState
        case notifyModemState
        case flowSuspend
        case flowResume
        case setLineStateMask(UInt8)
        case setModemStateMask(UInt8)
        case purge(UInt8)
    }

    public enum Code {
        public static let signature: UInt8 = 0, setBaud: UInt8 = 1, setDataSize: UInt8 = 2, setParity: UInt8 = 3
        public static let setStopSize: UInt8 = 4, setControl: UInt8 = 5, notifyLineState: UInt8 = 6, notifyModemState: UInt8 = 7
        public static let flowSuspend: UInt8 = 8, flowResume: UInt8 = 9, setLineStateMask: UInt8 = 10, setModemStateMask: UInt8 = 11
        public static let purge: UInt8 = 12
        public static let serverOffset: UInt8 = 100
    }

    /// SET-CONTROL values (RFC 2217 section 4).
    public enum Control {
        public static let queryFlow: UInt8 = 0, noFlow: UInt8 = 1, xonXoff: UInt8 = 2, hardware: UInt8 = 3
        public static let queryBreak: UInt8 = 4, breakOn: UInt8 = 5, breakOff: UInt8 = 6
        public static let queryDTR: UInt8 = 7, dtrOn: UInt8 = 8, dtrOff: UInt8 = 9
        public static let queryRTS: UInt8 = 10, rtsOn: UInt8 = 11, rtsOff: UInt8 = 12
    }

    /// The request in a COM-PORT-OPTION subnegotiation payload, or why it is not one.
    public static func parse(_ payload: [UInt8]) -> Result<Request, Telnet.Failure> {
        guard let code = payload.first else { return .failure(Telnet.Failure(description: "empty COM-PORT-OPTION subnegotiation")) }
        let value = Array(payload.dropFirst())
        func byte() -> Result<Request, Telnet.Failure>? {
            value.count == 1 ? nil : .failure(Telnet.Failure(description: "COM-PORT-OPTION \(code) needs 1 value byte, got \(value.count)"))
        }
        switch code {
        case Code.signature: return .success(.signature(value))
        case Code.setBaud:
            guard value.count == 4 else { return .failure(Telnet.Failure(description: "SET-BAUDRATE needs 4 bytes, got \(value.count)")) }
            return .success(.setBaud(value.reduce(0) { $0 << 8 | UInt32($1) }))
        case Code.notifyLineState: return .success(.notifyLineState)
        case Code.notifyModemState: return .success(.notifyModemState)
        case Code.flowSuspend: return .success(.flowSuspend)
        case Code.flowResume: return .success(.flowResume)
        case Code.setDataSize, Code.setParity, Code.setStopSize, Code.setControl, Code.setLineStateMask, Code.setModemStateMask, Code.purge:
            if let error = byte() { return error }
            let v = value[0]
            switch code {
            case Code.setDataSize: return .success(.setDataSize(v))
            case Code.setParity: return .success(.setParity(v))
            case Code.setStopSize: return .success(.setStopSize(v))
            case Code.setControl: return .success(.setControl(v))
            case Code.setLineStateMask: return .success(.setLineStateMask(v))
            case Code.setModemStateMask: return .success(.setModemStateMask(v))
            default: return .success(.purge(v))
            }
        default:
            return .failure(Telnet.Failure(description: "unknown COM-PORT-OPTION command \(code)"))
        }
    }

    /// IAC SB 44 (code + 100) value IAC SE.
    public static func reply(_ code: UInt8, _ value: [UInt8]) -> [UInt8] {
        Telnet.subnegotiation(option: Telnet.Option.comPort, [code + Code.serverOffset] + value)
    }

    public static func baudBytes(_ baud: Int) -> [UInt8] {
        let v = UInt32(clamping: baud)
        return [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// RFC 2217 parity numbers: 1 none, 2 odd, 3 even (4 mark and 5 space are not offered).
    public static func parity(_ value: UInt8) -> LineSettings.Parity? {
        switch value {
        case 1: return LineSettings.Parity.none
        case 2: return .odd
        case 3: return .even
        default: return nil
        }
    }

    public static func parityValue(_ parity: LineSettings.Parity) -> UInt8 {
        switch parity {
        case .none: return 1
        case .odd: return 2
        case .even: return 3
        }
    }
}
