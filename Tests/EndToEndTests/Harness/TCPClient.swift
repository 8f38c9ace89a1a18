import Foundation
import RTTYSystem
import SystemPackage

/// A raw TCP client of a console's port written for the tests: bytes in and out, sends
/// that never block (a flood stops when the daemon stops reading), and it notices a close.
final class TCPClient {
    let fd: Int32
    private(set) var received: [UInt8] = []
    private(set) var closed = false

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw HarnessError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// As much of `bytes` as the socket takes now (0 when the daemon is not reading).
    @discardableResult
    func offer(_ bytes: [UInt8]) -> Int {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        return max(n, 0)
    }

    /// All of `bytes`, waiting for room.
    func write(_ bytes: [UInt8], timeout: Double = 10) throws {
        var offset = 0
        let deadline = Date().addingTimeInterval(timeout)
        while offset < bytes.count {
            guard Date() < deadline else { throw HarnessError("the daemon took only \(offset) of \(bytes.count) bytes") }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, 100)
            offset += offer(Array(bytes[offset...]))
        }
    }

    /// Reads what arrives until `until` holds, the peer closes, or time runs out.
    @discardableResult
    func pump(timeout: Double, until: (TCPClient) -> Bool = { _ in false }) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !closed && !until(self) && Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 || (n < 0 && errno != EAGAIN) { closed = true } else if n > 0 { received += chunk.prefix(n) }
        }
        return until(self)
    }

    func waitFor(_ text: String, timeout: Double = 10) throws {
        let needle = Array(text.utf8)
        guard pump(timeout: timeout, until: { $0.received.contains(subsequence: needle) }) else {
            throw HarnessError("no \"\(text)\" from the TCP port within \(timeout) s (closed: \(closed)); got \(String(decoding: received.suffix(200), as: UTF8.self).debugDescription)")
        }
    }

    func waitForClose(timeout: Double = 10) throws {
        pump(timeout: timeout)
        if !closed { throw HarnessError("TCP connection still open after \(timeout) s") }
    }
}
