#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

// The one place libc calls are made from: EINTR is retried here and nowhere else, and a
// failure becomes a SystemError that names the operation and its subject. Three shapes,
// for the three ways libc reports a failure.

/// A call that returns -1 and sets errno.
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

/// A call that returns a pointer, nil with errno set (opendir, mkdtemp, getcwd).
func syscallPointer<T>(_ operation: String, _ subject: String = "", _ body: () -> T?) throws(SystemError) -> T {
    while true {
        if let result = body() { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemError(operation, subject, Errno(rawValue: code))
    }
}

/// A call that returns 0 or the error number itself, leaving errno alone (ttyname_r).
func syscallStatus(_ operation: String, _ subject: String = "", _ body: () -> CInt) throws(SystemError) {
    while true {
        let code = body()
        if code == 0 { return }
        if code == EINTR { continue }
        throw SystemError(operation, subject, Errno(rawValue: code))
    }
}
