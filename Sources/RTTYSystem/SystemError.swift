import SystemPackage

/// A failed system call: what was attempted, on what, and the errno.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let subject: String
    public let errno: Errno

    public init(_ operation: String, _ subject: String = "", _ errno: Errno) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        subject.isEmpty ? "\(operation): \(errno)" : "\(operation) \(subject): \(errno)"
    }
}
