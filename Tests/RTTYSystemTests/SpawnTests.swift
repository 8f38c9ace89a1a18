import Foundation
import RTTYSystem
import SystemPackage
import Testing

/// Spawn.underPty: an exec console's program gets its pty as 0-2 and nothing else, even
/// from a parent holding descriptors without close-on-exec (as NIO leaves its accepted
/// sockets and its epoll descriptors).
@Suite struct SpawnTests {
    /// Output of the child on `master` until `end` appears (or 10 s pass without output).
    func read(_ master: FileDescriptor, until end: String) -> String {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: output, as: UTF8.self).contains(end), Poll.readable(master, timeoutMilliseconds: 10_000) {
            guard let n = try? chunk.withUnsafeMutableBytes({ try master.read(into: $0) }), n > 0 else { break }
            output += chunk.prefix(n)
        }
        return String(decoding: output, as: UTF8.self)
    }

    @Test func childHoldsOnlyItsPtyEvenWhenTheParentLeaksDescriptors() throws {
        var pair: [Int32] = [-1, -1]
        // Deliberately without SOCK_CLOEXEC, like a descriptor a library opened.
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        let leaked = [pair[0], pair[1], dup(pair[0])]
        defer { leaked.forEach { _ = close($0) } }
        #expect(leaked.allSatisfy { !FileDescriptor(rawValue: $0).isCloseOnExec })
        let probe = (Array(0...2) + leaked).map { n in
            // The shell's own descriptors, seen without opening one (dash's `[` is built in).
            "if [ -e /proc/$$/fd/\(n) ]; then echo open:\(n); else echo closed:\(n); fi"
        }.joined(separator: "; ")
        let child = try Spawn.underPty(["/bin/sh", "-c", probe + "; echo probe-end"], environment: [], rows: 24, cols: 80)
        defer {
            Spawn.terminate(child.pid, grace: 1)
            try? child.master.close()
        }
        #expect(child.master.isCloseOnExec)
        let output = read(child.master, until: "probe-end")
        for n in 0...2 { #expect(output.contains("open:\(n)"), "\(output.debugDescription)") }
        for n in leaked { #expect(output.contains("closed:\(n)"), "\(output.debugDescription)") }
    }

    @Test func ptyPairIsCloseOnExecFromBirth() throws {
        let pty = try Pty.open()
        defer {
            try? pty.master.close()
            try? pty.slave.close()
        }
        #expect(pty.master.isCloseOnExec)
        #expect(pty.slave.isCloseOnExec)
        #expect(pty.slavePath.hasPrefix("/dev/pts/"))
    }

    @Test func runsUnderAPtyAndReportsTheExitStatus() throws {
        let child = try Spawn.underPty(["/bin/sh", "-c", "stty size; echo hi; exit 3"], environment: ["PATH=/bin:/usr/bin"], rows: 30, cols: 100)
        defer { try? child.master.close() }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while Poll.readable(child.master, timeoutMilliseconds: 5000) {
            guard let n = try? chunk.withUnsafeMutableBytes({ try child.master.read(into: $0) }), n > 0 else { break }
            output += chunk.prefix(n)
        }
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("30 100"))
        #expect(text.contains("hi"))
        var status: String?
        for _ in 0..<200 where status == nil {
            status = Spawn.reap(child.pid)
            usleep(10_000)
        }
        #expect(status == "exited 3")
    }

    @Test func missingCommandIsAnErrorWithItsErrno() {
        let error = #expect(throws: SystemError.self) {
            try Spawn.underPty(["/nonexistent/command"], environment: [], rows: 24, cols: 80)
        }
        #expect(error?.errno == .noSuchFileOrDirectory)
    }
}
