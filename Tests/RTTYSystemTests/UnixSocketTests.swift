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

    /// A live pid that runs another program (init, here) is a stale file, replaced with a
    /// note; a live rttyd is refused (LifecycleTests starts two).
    @Test func pidFileNamingAnotherProgramIsReplaced() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/rttyd.pid"
        #expect(try PidFile.write(path) == nil)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "\(ProcessIdentity.pid)\n")
        try "1\n".write(toFile: path, atomically: true, encoding: .utf8)  // init is always alive
        let note = try PidFile.write(path)
        #expect(note?.hasPrefix("pid file \(path) named pid 1, which is now ") == true && note?.hasSuffix(", not rttyd: replaced") == true, "\(note ?? "no note")")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "\(ProcessIdentity.pid)\n")
        PidFile.remove(path)
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

extension UnixSocketTests {
    /// Why a connect failed, from the file system (rtty, rttyctl and rtty-shell word it).
    @Test func aFailedConnectSaysWhy() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func problem(_ path: String) -> SocketProblem? {
            switch SocketProblem.connect(path: path) {
            case .success(let fd):
                try? fd.close()
                return nil
            case .failure(let problem):
                return problem
            }
        }
        #expect(problem(dir + "/missing/pbx") == .noDirectory(dir + "/missing"))
        #expect(problem(dir + "/pbx") == .noSocket(directory: dir))
        try UnixSocket.listen(path: dir + "/stale", group: nil, mode: 0o660).close()
        // A child another test spawns may hold the closed socket until its exec.
        for _ in 0..<250 where problem(dir + "/stale") == nil { usleep(20_000) }
        #expect(problem(dir + "/stale") == .nobodyListening)
        _ = FileManager.default.createFile(atPath: dir + "/file", contents: Data())
        #expect(problem(dir + "/file") == .notASocket)
        #expect(problem(dir + "/" + String(repeating: "x", count: 200)) == .tooLong(limit: 107))
        let live = try UnixSocket.listen(path: dir + "/live", group: nil, mode: 0o660)
        defer { try? live.close() }
        guard case .success(let fd) = SocketProblem.connect(path: dir + "/live") else {
            Issue.record("a listening socket was not reached")
            return
        }
        try fd.close()
    }
}
