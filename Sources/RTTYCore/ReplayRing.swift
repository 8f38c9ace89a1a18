/// The last `capacity` bytes of a console's output, for clients that attach later.
/// Appending is a copy of at most two spans; nothing is allocated after init.
public struct ReplayRing: Sendable {
    private var storage: [UInt8]
    /// Index where the next byte goes.
    private var head = 0
    public private(set) var count = 0

    public init(capacity: Int) {
        storage = [UInt8](repeating: 0, count: max(0, capacity))
    }

    public var capacity: Int { storage.count }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard capacity > 0, bytes.count > 0 else { return }
        // Only the newest `capacity` bytes can survive.
        let source = bytes.count > capacity ? UnsafeRawBufferPointer(rebasing: bytes.suffix(capacity)) : bytes
        let capacity = self.capacity, head = self.head
        storage.withUnsafeMutableBytes { ring in
            let first = min(source.count, capacity - head)
            ring.baseAddress!.advanced(by: head).copyMemory(from: source.baseAddress!, byteCount: first)
            if first < source.count {
                ring.baseAddress!.copyMemory(from: source.baseAddress!.advanced(by: first), byteCount: source.count - first)
            }
        }
        self.head = (head + source.count) % capacity
        count = min(capacity, count + source.count)
    }

    public mutating func append<C: Collection>(contentsOf bytes: C) where C.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { append($0) }
    }

    /// The newest min(n, count) bytes, oldest first.
    public func last(_ n: Int) -> [UInt8] {
        let take = max(0, min(n, count))
        guard take > 0 else { return [] }
        let start = (head - take + capacity) % capacity
        if start + take <= capacity {
            return Array(storage[start..<start + take])
        }
        return Array(storage[start...]) + Array(storage[..<(take - (capacity - start))])
    }

    public func contents() -> [UInt8] { last(count) }

    /// Changes the capacity, keeping the newest bytes that fit.
    public mutating func resize(capacity newCapacity: Int) {
        let kept = last(newCapacity)
        self = ReplayRing(capacity: newCapacity)
        kept.withUnsafeBytes { append($0) }
    }
}
