import SystemPackage

public enum TextFile {
    static func openForReading(_ path: String) throws(SystemError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw SystemError("open", path, error as? Errno ?? .ioError)
        }
    }

    /// The largest file read whole (configs, ACLs); a bigger one is refused, not loaded.
    public static let maxBytes = 4 << 20

    public static func read(_ path: String) throws(SystemError) -> String {
        let fd = try openForReading(path)
        defer { try? fd.close() }
        return try read(fd, path)
    }

    /// Everything left in an open file, up to `maxBytes`; `path` names it in errors.
    static func read(_ fd: FileDescriptor, _ path: String) throws(SystemError) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
            } catch {
                throw SystemError("read", path, error as? Errno ?? .ioError)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk.prefix(n))
            guard bytes.count <= maxBytes else { throw SystemError("read", path, .fileTooLarge) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension TextFile {
    /// Writes a small file whole (mode 0644), replacing it.
    public static func write(_ path: String, _ text: String) throws(SystemError) {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(
                FilePath(path), .writeOnly, options: [.create, .truncate, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw SystemError("open", path, error as? Errno ?? .ioError)
        }
        defer { try? fd.close() }
        do {
            _ = try fd.writeAll(Array(text.utf8))
        } catch {
            throw SystemError("write", path, error as? Errno ?? .ioError)
        }
    }
}

extension TextFile {
    /// The last `maxBytes` of a file (an append-only log may be larger than anything read
    /// whole), starting at a line boundary.
    public static func tail(_ path: String, maxBytes: Int) throws(SystemError) -> String {
        let fd = try openForReading(path)
        defer { try? fd.close() }
        do {
            let size = try fd.seek(offset: 0, from: .end)
            let start = max(0, size - Int64(maxBytes))
            _ = try fd.seek(offset: start, from: .start)
            var bytes = [UInt8](repeating: 0, count: Int(size - start))
            var filled = 0
            while filled < bytes.count {
                let n = try bytes[filled...].withUnsafeMutableBytes { try fd.read(into: $0, retryOnInterrupt: true) }
                if n == 0 { break }
                filled += n
            }
            var text = bytes.prefix(filled)
            if start > 0, let newline = text.firstIndex(of: 10) { text = text[(newline + 1)...] }
            return String(decoding: text, as: UTF8.self)
        } catch {
            throw SystemError("read", path, error as? Errno ?? .ioError)
        }
    }
}
