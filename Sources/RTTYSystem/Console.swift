#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ProcessEnvironment {
    /// One variable, or nil when it is unset or empty.
    public static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let text = String(cString: raw)
        return text.isEmpty ? nil : text
    }

    public static func all() -> [String: String] {
        var out: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                out[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return out
    }
}

/// Plain blocking standard I/O for small helper programs (the demo guest).
public enum Console {
    public static func write(_ text: String) {
        write(Array(text.utf8), to: 1)
    }

    /// The pty turns "\n" into "\r\n" itself (ONLCR).
    public static func writeLine(_ text: String) { write(text + "\n") }

    public static func writeError(_ text: String) { write(Array(text.utf8), to: 2) }

    /// All of `bytes`, short writes continued; gives up quietly when the descriptor fails
    /// (a closed terminal: there is nobody left to tell).
    private static func write(_ bytes: [UInt8], to fd: CInt) {
        var offset = 0
        while offset < bytes.count {
            let n = (try? bytes.withUnsafeBytes { raw throws(SystemError) in
                try syscall("write", "fd \(fd)") { Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            }) ?? 0
            if n <= 0 { return }
            offset += n
        }
    }

    /// Flushes C stdio buffers (Swift's print); `stdout` itself cannot be named in Swift 6.
    public static func flushAll() { fflush(nil) }

    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard (try? syscallPointer("getcwd", "", { getcwd(&buffer, buffer.count) })) != nil else { return "." }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A line from standard input without its line end; nil at end of input.
    public static func readLine() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = (try? syscall("read", "standard input") { Glibc.read(0, &byte, 1) }) ?? 0
            if n <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == 10 || byte == 13 { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    public static func sleep(milliseconds: Int) { _ = try? syscall("usleep") { usleep(useconds_t(milliseconds * 1000)) } }

    public static func exit(_ code: Int32) -> Never { Glibc.exit(code) }
}
