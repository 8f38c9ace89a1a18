/// Serial line settings of a console, as configured and as changed at run time.
public struct LineSettings: Equatable, Sendable {
    public enum Parity: String, Sendable, CaseIterable { case none, even, odd }
    public enum Flow: String, Sendable, CaseIterable { case none, rtscts, xonxoff }

    public static let baudRange: ClosedRange<Int> = 50...4_000_000
    public static let dataBitsRange: ClosedRange<Int> = 5...8

    public var baud: Int = 9600
    public var dataBits: Int = 8
    public var parity: Parity = .none
    public var stopBits: Int = 1
    public var flow: Flow = .none

    public init() {}

    public init(baud: Int, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1, flow: Flow = .none) {
        self.baud = baud
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
        self.flow = flow
    }

    /// "baud=115200 data=8 parity=none stop=1 flow=none": the form used on the wire, in
    /// notices and in `rttyctl set`.
    public var summary: String {
        "baud=\(baud) data=\(dataBits) parity=\(parity.rawValue) stop=\(stopBits) flow=\(flow.rawValue)"
    }

    /// Short human form for notices and the console log, e.g. "115200 8N1".
    public var short: String {
        let p = parity == .none ? "N" : parity == .even ? "E" : "O"
        return "\(baud) \(dataBits)\(p)\(stopBits)" + (flow == .none ? "" : " \(flow.rawValue)")
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let key: String
        public let value: String
        public let expected: String
        public var description: String { "\(key)=\(value): expected \(expected)" }
    }

    /// Applies one `key=value` change, checking the value. Keys: baud, data (data_bits,
    /// wordsize), parity, stop (stop_bits), flow.
    public mutating func set(_ key: String, _ value: String) throws(Invalid) {
        switch key {
        case "baud", "speed":
            guard let n = Int(value), LineSettings.baudRange.contains(n) else {
                throw Invalid(key: key, value: value, expected: "a rate from \(LineSettings.baudRange.lowerBound) to \(LineSettings.baudRange.upperBound)")
            }
            baud = n
        case "data", "data_bits", "wordsize":
            guard let n = Int(value), LineSettings.dataBitsRange.contains(n) else {
                throw Invalid(key: key, value: value, expected: "5, 6, 7 or 8")
            }
            dataBits = n
        case "parity":
            guard let p = Parity(rawValue: value.lowercased()) else {
                throw Invalid(key: key, value: value, expected: "none, even or odd")
            }
            parity = p
        case "stop", "stop_bits":
            guard let n = Int(value), n == 1 || n == 2 else {
                throw Invalid(key: key, value: value, expected: "1 or 2")
            }
            stopBits = n
        case "flow":
            guard let f = Flow(rawValue: value.lowercased()) else {
                throw Invalid(key: key, value: value, expected: "none, rtscts or xonxoff")
            }
            flow = f
        default:
            throw Invalid(key: key, value: value, expected: "one of baud, data, parity, stop, flow")
        }
    }

    /// Applies "key=value key=value ..." (the `summary` form); all or nothing.
    public func applying(_ text: String) throws(Invalid) -> LineSettings {
        var copy = self
        for word in text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }) {
            let parts = word.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw Invalid(key: String(word), value: "", expected: "key=value")
            }
            try copy.set(String(parts[0]), String(parts[1]))
        }
        return copy
    }
}
