import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage

/// A raw client of a request socket (control or report): one connection, bytes in and out,
/// so that tests can send many requests fast or control when the request is written.
struct ControlClient {
    let fd: SystemPackage.FileDescriptor

    init(path: String) throws {
        fd = try UnixSocket.connect(path: path)
    }

    func close() { try? fd.close() }

    /// Writes without SIGPIPE; false when the daemon has already closed the connection.
    @discardableResult
    func write(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { send(fd.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Everything the daemon sends until it closes (a reset after its answer counts as the
    /// end too: the daemon closed with our unread request in its queue).
    func readAll(timeout: Double = 10) throws -> String {
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard Poll.readable(fd, timeoutMilliseconds: 100) else { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return String(decoding: answer, as: UTF8.self) }
            answer += chunk.prefix(n)
        }
        throw HarnessError("no end of answer within \(timeout) s; got: \(String(decoding: answer, as: UTF8.self))")
    }

    /// One request, one answer.
    static func ask(_ path: String, _ line: String) throws -> String {
        let client = try ControlClient(path: path)
        defer { client.close() }
        client.write(line + "\n")
        return try client.readAll()
    }
}

/// Whether a control answer (its first line: a `log` answer's bytes follow it) says ok, and
/// its error when it does not; nil when the line is not an answer.
func controlOutcome(_ answer: String) -> ControlAnswer.Outcome? {
    let line = answer.split(separator: "\n", maxSplits: 1).first ?? ""
    return try? JSONDecoder().decode(ControlAnswer.Outcome.self, from: Data(line.utf8))
}
