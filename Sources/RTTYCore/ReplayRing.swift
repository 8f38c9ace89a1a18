/// The last `capacity` bytes of a console's output, for clients that attach later.
/// Storage grows with output (an idle console costs nothing) up to `capacity`; from then
/// on appending is a copy of at most two spans and nothing is allocated.
public struct ReplayRing: Sendable {
    private var storage: [UInt8] = []
    /// Index where the next byte goes (== storage.count until the ring is full).
    private var head = 0
    public private(set) var count = 0
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Bytes of memory held, for the at-rest figures.
    public var allocatedBytes: Int { storage.capacity }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard capacity > 0, bytes.count > 0 else { return }
        // Only the newest `capacity` bytes can survive.
        var source = bytes.count > capacity ? UnsafeRawBufferPointer(rebasing: bytes.suffix(capacity)) : bytes
        if storage.count < capacity {
            let taken = min(source.count, capacity - storage.count)
            let needed = storage.count + taken
            if needed > storage.capacity { storage.reserveCapacity(min(capacity, max(needed, storage.capacity * 2))) }
            storage.append(contentsOf: UnsafeRawBufferPointer(rebasing: source.prefix(taken)))
            head = storage.count % capacity
            count = storage.count
            source = UnsafeRawBufferPointer(rebasing: source.dropFirst(taken))
            if source.isEmpty { return }
        }
        let head = self.head
        storage.withUnsafeMutableBytes { ring in
            let first = min(source.count, capacity - head)
            ring.baseAddress!.advanced(by: head).copyMemory(from: source.baseAddress!, byteCount: first)
            if first < source.count {
                ring.baseAddress!.copyMemory(from: source.baseAddress!.advanced(by: first), byteCount: source.count - first)
            }
        }
        self.head = (head + source.count) % capacity
        count = capacity
    }

    public mutating func append<C: Collection>(contentsOf bytes: C) where C.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { append($0) }
    }

    /// The newest min(n, count) bytes, oldest first.
    public func last(_ n: Int) -> [UInt8] {
        let take = max(0, min(n, count))
        guard take > 0 else { return [] }
        let size = storage.count
        let start = (head - take + size) % size
        if start + take <= size {
            return Array(storage[start..<start + take])
        }
        return Array(storage[start...]) + Array(storage[..<(take - (size - start))])
    }

    public func contents() -> [UInt8] { last(count) }

    /// Changes the capacity, keeping the newest bytes that fit.
    public mutating func resize(capacity newCapacity: Int) {
        let kept = last(newCapacity)
        self = ReplayRing(capacity: newCapacity)
        kept.withUnsafeBytes { append($0) }
    }
}
