#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// The one place libc calls are made from: retries EINTR and turns -1 into a SystemError
/// that names the operation and its subject.
@discardableResult
func syscall<T: BinaryInteger>(_ operation: String, _ subject: String = "", _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(operation, subject, Errno(rawValue: code))
    }
}

/// A path as a NUL-terminated C string for the duration of `body`.
func withCPath<T>(_ path: String, _ body: (UnsafePointer<CChar>) -> T) -> T {
    path.withCString(body)
}
