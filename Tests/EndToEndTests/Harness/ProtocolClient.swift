import Foundation
import RTTYCore
import RTTYSystem
import SystemPackage

/// A console-socket client written for the tests, speaking only what a classic ttyprot
/// client speaks (plus HELLO when asked): it keeps every frame it receives so tests can
/// check data and notices exactly.
final class ProtocolClient {
    let fd: FileDescriptor
    private var parser = FrameParser(direction: .toClient, maxPayload: Frame.extendedMaxPayload)
    private(set) var frames: [Frame] = []
    private(set) var data: [UInt8] = []
    private(set) var closed = false

    init(socket path: String) throws {
        fd = try UnixSocket.connect(path: path)
    }

    private var fdOpen = true

    deinit { disconnect() }

    func disconnect() {
        guard fdOpen else { return }
        fdOpen = false
        closed = true
        try? fd.close()
    }

    func send(_ frame: Frame) throws {
        _ = try frame.encoded().withUnsafeBytes { try fd.writeAll($0) }
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        _ = try bytes.withUnsafeBytes { try fd.writeAll($0) }
    }

    /// The classic client's first words.
    func identify(_ who: String = "tester@pts/9") throws {
        try send(.withText(.whosOn, who))
    }

    func type(_ text: String) throws {
        try send(.withPayload(.data, Array(text.utf8)))
    }

    var notices: [String] { frames.filter { $0.kind == .notice }.map(\.text) }

    /// Reads what is available within `timeout` seconds (returns early once `until` holds).
    @discardableResult
    func pump(timeout: Double, until: ((ProtocolClient) -> Bool)? = nil) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !closed {
            if let until, until(self) { return true }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { break }
            var pfd = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, min(remaining, 0.2) * 1000)))
            if ready <= 0 { continue }
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
            } catch Errno.connectionReset {
                n = 0  // the daemon closed on us with our bytes unread: still a close
            }
            if n == 0 {
                closed = true
                break
            }
            parser.append(chunk.prefix(n))
            while let frame = try parser.next() {
                frames.append(frame)
                if frame.kind == .data { data.append(contentsOf: frame.payload) }
            }
        }
        return until?(self) ?? true
    }

    func waitForData(containing text: String, timeout: Double = 10) throws {
        let needle = Array(text.utf8)
        let found = try pump(timeout: timeout) { $0.data.contains(subsequence: needle) }
        if !found {
            throw HarnessError("no \"\(text)\" in output after \(timeout) s; got \(String(decoding: data.suffix(300), as: UTF8.self).debugDescription), notices \(notices)")
        }
    }

    func waitForNotice(containing text: String, timeout: Double = 10) throws {
        let found = try pump(timeout: timeout) { $0.notices.contains { $0.contains(text) } }
        if !found { throw HarnessError("no notice containing \"\(text)\" after \(timeout) s; notices: \(notices)") }
    }

    func waitForFrame(timeout: Double = 10, _ match: @escaping (Frame) -> Bool) throws -> Frame {
        _ = try pump(timeout: timeout) { $0.frames.contains(where: match) }
        guard let frame = frames.first(where: match) else {
            throw HarnessError("expected frame not received within \(timeout) s; frames: \(frames.map { "\($0.kind)\($0.query ? "?" : "") \($0.value) \($0.text.prefix(40))" })")
        }
        return frame
    }

    func waitForClose(timeout: Double = 10) throws {
        _ = try pump(timeout: timeout) { $0.closed }
        if !closed { throw HarnessError("connection still open after \(timeout) s") }
    }

    func clear() {
        frames.removeAll()
        data.removeAll()
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        let first = needle[0]
        var i = 0
        while i <= count - needle.count {
            if self[i] == first && self[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
