import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The program of an `exec` console (and whoever has a shell on it) must hold its pty as
/// descriptors 0-2 and nothing else: no other console's device, no client's socket, no
/// listening socket. The attack: a hostile program lists every open descriptor and writes
/// to each one above 2, while other consoles have clients attached.
@Suite struct DescriptorTests {
    /// Lists every open descriptor without opening any itself (fcntl over the whole
    /// RLIMIT_NOFILE range, readlink of /proc/self/fd/N), writes a DATA frame carrying
    /// "LEAKED-fdN" to each above 2 (a valid frame, so a client that gets it shows it as
    /// console output), prints one line per descriptor and then a summary, and waits.
    /// With `--wait` it starts on a line from its terminal; with `--exit` it ends after.
    /// `--clean-exec PROGRAM ARGS...` instead runs PROGRAM with nothing open above 2 (so a
    /// daemon's descriptors are all its own, not the test runner's).
    static let probeSource = #"""
        #include <errno.h>
        #include <fcntl.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/resource.h>
        #include <unistd.h>

        int main(int argc, char **argv) {
            if (argc > 2 && strcmp(argv[1], "--clean-exec") == 0) {
                for (int fd = 3; fd < 65536; fd++) close(fd);
                execv(argv[2], argv + 2);
                return 127;
            }
            int wait_first = argc > 1 && strcmp(argv[1], "--wait") == 0;
            int exit_after = argc > 1 && strcmp(argv[1], "--exit") == 0;
            char line[64];
            if (wait_first && read(0, line, sizeof(line)) <= 0) return 1;
            struct rlimit rl;
            if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 2;
            long limit = rl.rlim_cur > 1048576 ? 1048576 : (long)rl.rlim_cur;
            int count = 0;
            for (int fd = 0; fd < limit; fd++) {
                if (fcntl(fd, F_GETFD) < 0) continue;
                char path[64], target[256];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = 0;
                const char *wrote = "-";
                if (fd > 2) {
                    unsigned char frame[64] = {0, 1, 0, 0};
                    int len = snprintf((char *)frame + 4, sizeof(frame) - 4, "LEAKED-fd%d", fd);
                    frame[3] = (unsigned char)len;
                    wrote = write(fd, frame, 4 + len) >= 0 ? "written" : strerror(errno);
                }
                printf("fdprobe %d %s (%s)\n", fd, target, wrote);
                count++;
            }
            printf("fdprobe summary: %d open as uid %d\n", count, (int)getuid());
            fflush(stdout);
            if (exit_after) return 0;
            for (;;) pause();
        }
        """#

    /// What one run of the probe reported: descriptor number to what it is.
    struct Listing {
        var open: [Int: String] = [:]

        init(_ output: String) {
            for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix("fdprobe ") {
                let words = line.split(separator: " ", maxSplits: 2)
                if words.count == 3, let fd = Int(words[1]) { open[fd] = String(words[2]) }
            }
        }

        var numbers: [Int] { open.keys.sorted() }

        /// 0, 1 and 2 on one pty, nothing else.
        var isOnlyItsPty: Bool {
            guard numbers == [0, 1, 2], let target = open[0], target.hasPrefix("/dev/pts/") else { return false }
            return open.values.allSatisfy { $0 == target }
        }
    }

    static func rttyctl(_ env: TestEnvironment, _ arguments: [String]) throws -> ClientTests.Run {
        try ControlTests.rttyctl([arguments[0], "--control", env.socketDir + "/control"] + arguments.dropFirst())
    }

    /// A session id from `rttyctl who --json`, found by the client's `who`.
    static func session(_ env: TestEnvironment, who: String) throws -> String {
        let run = try rttyctl(env, ["who", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let clients = ((object?["consoles"] as? [[String: Any]]) ?? []).flatMap { ($0["clients"] as? [[String: Any]]) ?? [] }
        guard let session = clients.first(where: { ($0["who"] as? String)?.hasSuffix(who) == true })?["session"] as? String else {
            throw HarnessError("no session of \(who) in \(run.stdout)")
        }
        return session
    }

    /// A daemon with a pty device console and a Unix-socket (VM) console, a client attached
    /// to each, and the control socket: everything an exec console's program must not get.
    final class Rig {
        let env: TestEnvironment
        let guest: PtyGuest
        let vm: Socat
        let daemon: DaemonProcess
        let devClient: ProtocolClient
        let vmClient: ProtocolClient
        let probe: String

        init() throws {
            env = try TestEnvironment()
            probe = try CHelper.build("fdprobe", source: DescriptorTests.probeSource, in: env)
            guest = try PtyGuest()
            let vmSocket = env.root + "/vm.serial"
            vm = try Socat(["UNIX-LISTEN:\(vmSocket),fork", "EXEC:/bin/cat"])
            try waitUntil(timeout: 5, "the VM socket") { Files.isSocket(vmSocket) }
            try env.writeConfig(Self.consoles(guest: guest.devicePath, vm: vmSocket))
            let daemon = try DaemonProcess(env)
            self.daemon = daemon
            try daemon.waitForSockets(["dev", "vm"])
            try waitUntil(timeout: 10, "both sources open; stderr:\n\(daemon.stderr)") {
                daemon.stderr.components(separatedBy: "source open").count > 2
            }
            devClient = try ProtocolClient(socket: env.socket("dev"))
            try devClient.waitForNotice(containing: "authorized")
            try devClient.identify("victim@pts/41")
            vmClient = try ProtocolClient(socket: env.socket("vm"))
            try vmClient.waitForNotice(containing: "authorized")
            try vmClient.identify("other@pts/42")
            try devClient.waitForNotice(containing: "@pts/41 connected")
            try vmClient.waitForNotice(containing: "@pts/42 connected")
        }

        /// The daemon goes first: socat's child serving the daemon's connection holds the
        /// descriptor Foundation watches for socat's exit until that connection ends.
        deinit {
            _ = try? daemon.stop()
            vm.stop()
        }

        static func consoles(guest: String, vm: String) -> String {
            "[console.dev]\ndevice = \"\(guest)\"\n\n[console.vm]\nunix = \"\(vm)\"\n"
        }

        /// Adds exec consoles by reload: they are started now, with every client above
        /// connected, so a descriptor that leaks into their programs is there to be seen.
        func addExecConsoles(_ consoles: [String: [String]]) throws {
            let exec = consoles.sorted { $0.key < $1.key }.map { name, argv in
                "[console.\(name)]\nexec = [\(argv.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
            }
            try env.writeConfig(Self.consoles(guest: guest.devicePath, vm: env.root + "/vm.serial") + "\n" + exec.joined(separator: "\n"))
            daemon.signal(SIGHUP)
            try daemon.waitForSockets(Array(consoles.keys))
        }

        /// Runs the probe waiting on console `name` and returns its listing.
        func probeListing(_ name: String) throws -> (Listing, ProtocolClient) {
            let client = try ProtocolClient(socket: env.socket(name))
            try client.waitForNotice(containing: "authorized")
            try client.identify("attacker@pts/43")
            try client.waitForNotice(containing: "@pts/43 connected")
            try client.type("go\r")
            try client.waitForData(containing: "fdprobe summary")
            return (Listing(String(decoding: client.data, as: UTF8.self)), client)
        }

        /// Nothing the probe wrote reached the other consoles' clients or the device: each
        /// path carries a marker afterwards, so anything written before it has arrived.
        func expectNothingLeaked() throws {
            try guest.write("marker-from-device\n")
            try devClient.waitForData(containing: "marker-from-device")
            #expect(!String(decoding: devClient.data, as: UTF8.self).contains("LEAKED"), "the dev client got bytes from the exec program")
            try devClient.type("marker-to-device")
            try guest.waitFor("marker-to-device")
            #expect(!guest.receivedText.contains("LEAKED"), "the device got bytes from the exec program: \(guest.receivedText.debugDescription)")
            try vmClient.type("marker-through-vm")
            try vmClient.waitForData(containing: "marker-through-vm")
            #expect(!String(decoding: vmClient.data, as: UTF8.self).contains("LEAKED"), "the vm client got bytes from the exec program")
        }
    }

    @Test func execProgramHoldsOnlyItsPtyAndCannotWriteToOthers() throws {
        let rig = try Rig()
        try rig.addExecConsoles(["probe": [rig.probe, "--wait"]])
        let (listing, _) = try rig.probeListing("probe")
        #expect(listing.isOnlyItsPty, "the exec program holds \(listing.open)")
        try rig.expectNothingLeaked()
        // A kicked client is disconnected at once: no child holds its socket open.
        let kick = try Self.rttyctl(rig.env, ["kick", try Self.session(rig.env, who: "@pts/41")])
        #expect(kick.status == 0, "\(kick.stderr)")
        try rig.devClient.waitForClose(timeout: 5)
    }

    /// Every descriptor rttyd opens itself is close-on-exec from birth. The exceptions are
    /// NIO's and cannot be reached (NIO hides them): its epoll descriptors, its accepted
    /// sockets (accept4 without SOCK_CLOEXEC), its TCP listener and its connection to a
    /// `unix` source. Closing everything in the exec child is what covers those.
    @Test func daemonDescriptorsAreCloseOnExecExceptNIOs() throws {
        let env = try TestEnvironment()
        let helper = try CHelper.build("fdprobe", source: Self.probeSource, in: env)
        let guest = try PtyGuest()
        let vmSocket = env.root + "/vm.serial"
        let vm = try Socat(["UNIX-LISTEN:\(vmSocket),fork", "EXEC:/bin/cat"])
        try waitUntil(timeout: 5, "the VM socket") { Files.isSocket(vmSocket) }
        let port = try SSHRig.freePort()
        try env.writeConfig(
            Rig.consoles(guest: guest.devicePath, vm: vmSocket) + "tcp = \"127.0.0.1:\(port)\"\n\n[console.cmd]\nexec = [\"/bin/cat\"]\n")
        let daemon = try DaemonProcess(env, launcher: [helper, "--clean-exec"])
        var tcpClient: Socat?
        // The daemon first (see Rig.deinit), then the programs it was connected to.
        defer {
            _ = try? daemon.stop()
            tcpClient?.stop()
            vm.stop()
        }
        try daemon.waitForSockets(["dev", "vm", "cmd"])
        try waitUntil(timeout: 10, "three sources open; stderr:\n\(daemon.stderr)") {
            daemon.stderr.components(separatedBy: "source open").count > 3
        }
        let client = try ProtocolClient(socket: env.socket("dev"))
        try client.identify("watcher@pts/46")
        try client.waitForNotice(containing: "@pts/46 connected")
        tcpClient = try Socat(["-u", "TCP:127.0.0.1:\(port)", "OPEN:/dev/null"])
        try daemon.waitForLog("tcp@127.0.0.1")

        // Unix listening sockets (flag __SO_ACCEPTCON in /proc/net/unix) are all ours. Read
        // to the end: String(contentsOfFile:) stops after the first read of a proc file.
        let table = try #require(FileHandle(forReadingAtPath: "/proc/net/unix")).readDataToEndOfFile()
        let listening = Set(
            String(decoding: table, as: UTF8.self).split(separator: "\n").dropFirst().compactMap { line -> String? in
                let fields = line.split(separator: " ")
                guard fields.count > 6, let flags = Int(fields[3], radix: 16), flags & 0x10000 != 0 else { return nil }
                return "socket:[\(fields[6])]"
            })
        let pid = daemon.process.processIdentifier
        var ownPaths = 0, ownListeners = 0
        var leaks: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") {
            guard let fd = Int(name), fd > 2,
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(name)"),
                let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(name)", encoding: .utf8),
                let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }).flatMap({ Int($0.split(separator: "\t").last ?? "", radix: 8) })
            else { continue }
            let closeOnExec = flags & Int(O_CLOEXEC) != 0
            if target.hasPrefix("/") { ownPaths += 1 }
            if listening.contains(target) { ownListeners += 1 }
            let nios = target == "anon_inode:[eventpoll]" || (target.hasPrefix("socket:") && !listening.contains(target))
            if !closeOnExec && !nios {
                leaks.append("\(fd) -> \(target)")
            }
        }
        #expect(leaks.isEmpty, "rttyd holds descriptors without close-on-exec: \(leaks)")
        #expect(ownPaths >= 6, "expected the device, ptys, logs and the audit log among rttyd's descriptors")
        #expect(ownListeners >= 5, "expected three console sockets, the control and the report socket")
    }

    /// Variant: a program that drops its privileges (here to nobody, as a console command
    /// that runs `setpriv`, `su` or `runuser` does) keeps every descriptor it inherited, and
    /// cannot reach the daemon's descriptors any other way. The ptys of other exec consoles
    /// started at the same time must not be among them either.
    @Test(.enabled(if: AccessTests.needsRoot)) func privilegeDroppingProgramInheritsNothing() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let drop = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", rig.probe]
        try rig.addExecConsoles(["dropped": drop + ["--wait"], "sibling": ["/bin/cat"]])
        let (listing, client) = try rig.probeListing("dropped")
        #expect(String(decoding: client.data, as: UTF8.self).contains("as uid 65534"))
        #expect(listing.isOnlyItsPty, "the program, now nobody, holds \(listing.open)")
        try rig.expectNothingLeaked()
    }

    /// Variant: an exec console whose program ends and is started again by the back-off
    /// while other clients keep connecting and leaving on the other consoles' loops: no
    /// run catches a descriptor in passing.
    @Test func rerunProgramInheritsNothingWhileClientsComeAndGo() throws {
        let rig = try Rig()
        try rig.addExecConsoles(["rerun": [rig.probe, "--exit"]])
        let watcher = try ProtocolClient(socket: rig.env.socket("rerun"))
        try watcher.identify("watcher@pts/44")
        let stop = ManagedAtomicFlag()
        let sockets = [rig.env.socket("dev"), rig.env.socket("vm")]
        let churn = Thread {
            while !stop.isSet {
                for socket in sockets {
                    guard let client = try? ProtocolClient(socket: socket) else { continue }
                    try? client.identify("churn@pts/45")
                    _ = try? client.pump(timeout: 0.02)
                }
            }
        }
        churn.start()
        defer { stop.set() }
        let summary = "fdprobe summary"
        try watcher.pump(timeout: 30) { String(decoding: $0.data, as: UTF8.self).components(separatedBy: summary).count > 3 }
        let runs = String(decoding: watcher.data, as: UTF8.self).components(separatedBy: summary).dropLast().map(Listing.init)
        #expect(runs.count >= 3, "the program ran \(runs.count) times; notices: \(watcher.notices)")
        for (index, run) in runs.enumerated() {
            #expect(run.isOnlyItsPty, "run \(index + 1) of the program held \(run.open)")
        }
        stop.set()
        try rig.expectNothingLeaked()
    }
}

/// A flag one thread sets and another polls.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
