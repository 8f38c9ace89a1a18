/// Incremental frame parser: bytes in with `append`, frames out with `next()`.
/// It never trusts a length: a payload over `maxPayload` is an error, not an allocation.
public struct FrameParser: Sendable {
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case unknownType(UInt8)
        case unknownFlags(UInt16)
        case oversized(kind: Frame.Kind, length: Int, limit: Int)

        public var description: String {
            switch self {
            case .unknownType(let t): return "unknown frame type \(t)"
            case .unknownFlags(let f): return "unknown frame flags 0x\(String(f, radix: 16))"
            case .oversized(let kind, let length, let limit):
                return "\(kind) frame of \(length) bytes exceeds the limit of \(limit)"
            }
        }
    }

    public let direction: Direction
    public var maxPayload: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Unconsumed bytes held, so callers can bound memory per peer.
    public var bufferedBytes: Int { buffer.count - start }

    public init(direction: Direction, maxPayload: Int = Frame.extendedMaxPayload) {
        self.direction = direction
        self.maxPayload = maxPayload
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, nil when more bytes are needed, or a `Failure` after which
    /// the stream cannot be resynchronised and the peer must be closed.
    public mutating func next() throws(Failure) -> Frame? {
        guard bufferedBytes >= Frame.headerSize else { return nil }
        let f = UInt16(buffer[start]) << 8 | UInt16(buffer[start + 1])
        let i = UInt16(buffer[start + 2]) << 8 | UInt16(buffer[start + 3])
        guard f & ~(Frame.queryFlag | 0x00FF) == 0 else { throw .unknownFlags(f) }
        guard let kind = Frame.Kind(rawValue: UInt8(f & 0xFF)) else { throw .unknownType(UInt8(f & 0xFF)) }
        let query = f & Frame.queryFlag != 0
        var length = 0
        if kind.carriesPayload(query: query, direction: direction) {
            length = Int(i)
            guard length <= maxPayload else { throw .oversized(kind: kind, length: length, limit: maxPayload) }
        }
        guard bufferedBytes >= Frame.headerSize + length else { return nil }
        let payloadStart = start + Frame.headerSize
        let payload = Array(buffer[payloadStart..<payloadStart + length])
        start = payloadStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65_536 {
            buffer.removeFirst(start)
            start = 0
        }
        return Frame(kind, query: query, value: i, payload: payload)
    }
}
