/// The required literals of a console's triggers (`RequiredLiteral`), searched for together
/// in one pass over a line: which triggers' literals does it hold? Wu and Manber's
/// multi-pattern search: a window of `shortest` bytes slides along the line, and the two
/// bytes at its end say how far it can move (`shift`, by a hash of the pair: a pair found
/// in no literal's first `shortest` bytes moves it `shortest - 1`); only where a window
/// ends like some literal's first `shortest` bytes (`endsIn`) are literals compared. Pairs
/// are far rarer in text than single bytes, so most windows move the whole way and most
/// bytes of a line are never read. The tables are raw memory (6 KiB), made once and never
/// changed: this runs for every line a console prints, where array bounds checks and
/// reference counting were most of the cost.
final class LiteralSet: @unchecked Sendable {
    /// The shortest literal's length, at most 255 (0: no literals).
    let shortest: Int
    private static let hashes = 4096
    private let shift: UnsafeMutablePointer<UInt8>
    private let endsIn: UnsafeMutablePointer<UInt64>
    /// Every literal, one after the other; trigger `t`'s is `bytes[starts[t]..<starts[t+1]]`
    /// (empty when it has none).
    private let bytes: UnsafeMutablePointer<UInt8>
    private let starts: UnsafeMutablePointer<Int>

    /// Where a pair of bytes goes in `shift`; pairs that collide share the smaller shift.
    @inline(__always) private static func hash(_ first: UInt8, _ second: UInt8) -> Int {
        (Int(first) << 5 ^ Int(second)) & (hashes - 1)
    }

    /// `literals[t]`: trigger t's literal or nil; at most 64 triggers.
    init(_ literals: [[UInt8]?]) {
        let count = min(literals.count, 64)
        shortest = min(literals.prefix(count).compactMap { $0?.count }.min() ?? 0, 255)
        shift = .allocate(capacity: Self.hashes)
        shift.initialize(repeating: UInt8(max(shortest - 1, 0)), count: Self.hashes)
        endsIn = .allocate(capacity: 256)
        endsIn.initialize(repeating: 0, count: 256)
        let all = literals.prefix(count).flatMap { $0 ?? [] }
        bytes = .allocate(capacity: max(all.count, 1))
        bytes.initialize(from: all, count: all.count)
        starts = .allocate(capacity: count + 1)
        var at = 0
        for (index, literal) in literals.prefix(count).enumerated() {
            starts[index] = at
            at += literal?.count ?? 0
            guard let literal, shortest > 0 else { continue }
            for k in 1..<max(shortest, 1) {
                let h = Self.hash(literal[k - 1], literal[k])
                shift[h] = min(shift[h], UInt8(shortest - 1 - k))
            }
            endsIn[Int(literal[shortest - 1])] |= 1 << UInt64(index)
        }
        starts[count] = at
    }

    deinit {
        shift.deallocate()
        endsIn.deallocate()
        bytes.deallocate()
        starts.deallocate()
    }

    /// The triggers (bit t: trigger t) whose literal `line` holds.
    func found(in line: UnsafeRawBufferPointer) -> UInt64 {
        guard shortest > 0, line.count >= shortest, let base = line.baseAddress else { return 0 }
        let text = base.assumingMemoryBound(to: UInt8.self)
        let count = line.count
        var found: UInt64 = 0
        // One-byte literals: every byte is a window's end.
        if shortest == 1 {
            for at in 0..<count { found |= candidates(text, count, at, endsIn[Int(text[at])] & ~found) }
            return found
        }
        // Each window's move waits on the table read of the one before, so four windows
        // move at once, one in each quarter of the line, and the processor overlaps them.
        let first = shortest - 1
        let quarter = (count - first) / 4
        let (b, c, d) = (first + quarter, first + 2 * quarter, first + 3 * quarter)
        var (w, x, y, z) = (first, b, c, d)
        while w < b && x < c && y < d && z < count {
            w = step(text, count, w, &found)
            x = step(text, count, x, &found)
            y = step(text, count, y, &found)
            z = step(text, count, z, &found)
        }
        while w < b { w = step(text, count, w, &found) }
        while x < c { x = step(text, count, x, &found) }
        while y < d { y = step(text, count, y, &found) }
        while z < count { z = step(text, count, z, &found) }
        return found
    }

    /// Where the window after the one ending at `end` ends; what that window holds is
    /// added to `found`.
    @inline(__always) private func step(_ text: UnsafePointer<UInt8>, _ count: Int, _ end: Int, _ found: inout UInt64) -> Int {
        let distance = Int(shift[Self.hash(text[end - 1], text[end])])
        if distance != 0 { return end + distance }
        found |= candidates(text, count, end, endsIn[Int(text[end])] & ~found)
        return end + 1
    }

    /// Which of the literals in `maybe` start where the window ending at `end` starts.
    @inline(__always) private func candidates(_ text: UnsafePointer<UInt8>, _ count: Int, _ end: Int, _ maybe: UInt64) -> UInt64 {
        var maybe = maybe
        var found: UInt64 = 0
        while maybe != 0 {
            let index = maybe.trailingZeroBitCount
            maybe &= maybe - 1
            let length = starts[index + 1] - starts[index]
            let start = end - shortest + 1
            if start + length <= count && Self.equal(text + start, bytes + starts[index], length) {
                found |= 1 << UInt64(index)
            }
        }
        return found
    }

    @inline(__always) private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for k in 0..<count where a[k] != b[k] { return false }
        return true
    }
}
