import SystemPackage

/// One descriptor held back (on /dev/null) for when the process runs out of them: freeing
/// it makes room to accept a waiting client and tell it why it is refused (AcceptGuard).
public struct ReserveDescriptor: Sendable {
    private var fd: FileDescriptor?

    /// Opens the reserve now, while descriptors are free.
    public init() {
        fd = try? FileDescriptor.open("/dev/null", .readOnly, options: [.closeOnExec])
    }

    /// Gives the descriptor back to the process.
    public mutating func release() {
        try? fd?.close()
        fd = nil
    }

    /// Holds one again, if the process has one to spare.
    public mutating func refill() {
        if fd == nil { self = ReserveDescriptor() }
    }
}
