#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// A file read in pieces, by offset (logs, the audit log, transcripts): answers are streamed
/// from it chunk by chunk, so nothing the size of the file is ever held in memory.
public final class ReadableFile: @unchecked Sendable {
    /// Size and identity: a file whose device and inode change was replaced (rotated).
    public struct Identity: Equatable, Sendable {
        public var size: Int64
        public var device: UInt64
        public var inode: UInt64
    }

    public let path: String
    private let fd: FileDescriptor

    public init(_ path: String) throws(SystemError) {
        self.path = path
        fd = try TextFile.openForReading(path)
    }

    deinit { try? fd.close() }

    public func identity() throws(SystemError) -> Identity {
        var st = stat()
        try syscall("fstat", path) { fstat(fd.rawValue, &st) }
        return Identity(size: Int64(st.st_size), device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// What is at `path` now (nil if nothing is), to notice a rotation.
    public static func identity(at path: String) -> Identity? {
        guard let st = Files.status(path) else { return nil }
        return Identity(size: Int64(st.st_size), device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Up to `count` bytes from `offset` (fewer at the end of the file).
    public func read(at offset: Int64, count: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n: Int
            do {
                n = try bytes[filled...].withUnsafeMutableBytes {
                    try fd.read(fromAbsoluteOffset: offset + Int64(filled), into: $0, retryOnInterrupt: true)
                }
            } catch {
                throw SystemError("read", path, error as? Errno ?? .ioError)
            }
            if n == 0 { break }
            filled += n
        }
        return Array(bytes.prefix(filled))
    }
}
