import Foundation
import RTTYSystem
import SystemPackage
import Testing

@Suite struct UnixSocketTests {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rtty-sys-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func listensWithTheModeAndGroupAskedAndLeavesNoStagingBehind() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/pbx"
        let fd = try UnixSocket.listen(path: path, group: ProcessIdentity.effectiveGID, mode: 0o660)
        defer { try? fd.close() }
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attrs[.posixPermissions] as? Int) == 0o660)
        #expect((attrs[.groupOwnerAccountID] as? Int) == Int(ProcessIdentity.effectiveGID))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["pbx"])
    }

    /// Both ways in: a plain descriptor (PeerCredentialsReader), and what NIO does for the
    /// daemon, reading the option by level and name into the raw structure and decoding it.
    @Test func peerCredentialsAreOursReadEitherWay() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let listener = try UnixSocket.listen(path: dir + "/s", group: nil, mode: 0o600)
        defer { try? listener.close() }
        let client = try UnixSocket.connect(path: dir + "/s")
        defer { try? client.close() }
        let creds = try PeerCredentialsReader.read(socket: client)
        #expect(creds == PeerCredentials(pid: ProcessIdentity.pid, uid: ProcessIdentity.effectiveUID, gid: ProcessIdentity.effectiveGID))

        var raw = PeerCredentials.RawOption()
        var length = socklen_t(MemoryLayout<PeerCredentials.RawOption>.size)
        let option = PeerCredentials.socketOption
        #expect(getsockopt(client.rawValue, option.level, option.name, &raw, &length) == 0)
        #expect(Int(length) == MemoryLayout<PeerCredentials.RawOption>.size)
        #expect(try PeerCredentials(decoding: raw) == creds)
    }

    @Test func acceptedConnectionsAreCloseOnExecAndNonBlocking() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let listener = try UnixSocket.listen(path: dir + "/s", group: nil, mode: 0o600)
        defer { try? listener.close() }
        #expect(try UnixSocket.accept(from: listener) == nil, "nobody is waiting yet")
        let client = try UnixSocket.connect(path: dir + "/s")
        defer { try? client.close() }
        let accepted = try #require(try UnixSocket.accept(from: listener))
        defer { try? accepted.close() }
        #expect(accepted.isCloseOnExec)
        #expect(fcntl(accepted.rawValue, F_GETFL) & O_NONBLOCK != 0)
    }

    @Test func staleSocketIsReplacedLiveOneAndRegularFileRefused() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/pbx"
        let first = try UnixSocket.listen(path: path, group: nil, mode: 0o660)
        // Live: someone accepts connections on it.
        #expect(throws: SystemError.self) { try UnixSocket.listen(path: path, group: nil, mode: 0o660) }
        // Stale: the listener is gone, the node is left behind as after a crash.
        try first.close()
        #expect(Files.isSocket(path))
        let second = try UnixSocket.listen(path: path, group: nil, mode: 0o660)
        try second.close()
        // Never replace something that is not a socket.
        let file = dir + "/notes"
        FileManager.default.createFile(atPath: file, contents: Data("keep".utf8))
        do {
            _ = try UnixSocket.listen(path: file, group: nil, mode: 0o660)
            Issue.record("a regular file was replaced by a socket")
        } catch {
            #expect(error.description.contains("not a socket"))
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep")
    }

    @Test func pidFileRefusesAnotherLiveDaemon() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/rttyd.pid"
        try PidFile.write(path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "\(ProcessIdentity.pid)\n")
        try "1\n".write(toFile: path, atomically: true, encoding: .utf8)  // init is always alive
        #expect(throws: SystemError.self) { try PidFile.write(path) }
        PidFile.remove(path)
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
