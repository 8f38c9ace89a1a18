/// The last `capacity` bytes of a console's output as one client session received them,
/// addressed by offset from the session's start, so a reader can ask "from where I left
/// off" (the agent server's `read_output`) or "only what came after this point" (expect).
/// Older bytes are dropped; a read from before the window says how many it missed.
public struct OutputWindow: Sendable {
    public let capacity: Int
    private var bytes: [UInt8] = []
    /// Offset of `bytes[0]`.
    public private(set) var start = 0

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Offset just past the newest byte: the session's byte count so far.
    public var end: Int { start + bytes.count }

    public mutating func append(_ chunk: some Collection<UInt8>) {
        bytes += chunk
        if bytes.count > capacity {
            let drop = bytes.count - capacity
            bytes.removeFirst(drop)
            start += drop
        }
    }

    public struct Slice: Equatable, Sendable {
        public let bytes: [UInt8]
        /// Where `bytes` begins (later than asked when older bytes were dropped).
        public let from: Int
        /// Where the next read should begin.
        public let next: Int
        /// Bytes asked for that are gone (older than the window).
        public let missed: Int
    }

    /// At most `limit` bytes from `offset` on (clamped to what is kept).
    public func read(from offset: Int, limit: Int) -> Slice {
        let from = min(max(offset, start), end)
        let upTo = min(end, from + max(0, limit))
        return Slice(bytes: Array(bytes[(from - start)..<(upTo - start)]), from: from, next: upTo, missed: offset < start ? start - max(0, offset) : 0)
    }
}
