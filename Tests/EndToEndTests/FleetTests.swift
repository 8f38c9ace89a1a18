import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// Issue 16 part 1 end to end: three console hosts on this machine (each its own sshd, rttyd,
/// users, keys and ACL: an SSHRig), a fourth that takes the TCP connection and never says a
/// word, and a fleet file naming them. `rtty --fleet` lists, `rtty NAME` and `rtty HOST:NAME`
/// attach over the user's own ssh, `rttyctl --fleet` asks every host's daemon. Needs root.
@Suite(.serialized) struct FleetTests {
    /// The three hosts, the silent one and the fleet file (timeout 3 s).
    final class Rig {
        let hosts: [SSHRig]
        let directory: String
        let fleetFile: String
        let adminFleetFile: String
        /// Accepts connections in its backlog and never answers (a hung host).
        let silentListener: Int32
        var controlDirectory: String { directory + "/run" }

        init() throws {
            let echo = SSHTests.echoConsole
            hosts = [
                try SSHRig(
                    consoles: echo("pbx") + echo("util"), roles: ["alice", "nobody"],
                    grants: [.init(role: "alice", consoles: "pbx", rights: "rw"), .init(role: "alice", consoles: "util", rights: "ro")], keyOnly: true),
                try SSHRig(consoles: echo("lab1") + echo("shared"), roles: ["alice"], grants: [.init(role: "alice", consoles: "lab1,shared", rights: "rw")], keyOnly: true),
                try SSHRig(consoles: echo("shared") + echo("secret"), roles: ["alice"], grants: [.init(role: "alice", consoles: "shared", rights: "rw")], keyOnly: true),
            ]
            // Short: ssh's control sockets must fit in sun_path.
            directory = "/tmp/rtf-" + UUID().uuidString.prefix(6).lowercased()
            try FileManager.default.createDirectory(atPath: directory + "/run", withIntermediateDirectories: true)
            let (fd, port) = try Self.silentPort()
            silentListener = fd
            let common = "timeout 3\noption StrictHostKeyChecking=no\noption UserKnownHostsFile=/dev/null\noption LogLevel=ERROR\noption IdentitiesOnly=yes\n"
            var users = common, admins = common
            for (index, rig) in hosts.enumerated() {
                let options = "Port=\(rig.port) IdentityFile=\(rig.clientKey)"
                users += "host h\(index + 1) \(rig.user("alice"))@127.0.0.1 \(options)\n"
                // Root's key, so the admin's own login reaches each host's rttyctl.
                try FileManager.default.copyItem(atPath: rig.clientKey + ".pub", toPath: rig.env.root + "/keys/root")
                admins += "group g\(index + 1)\nrttyctl \(BuiltProducts.path("rttyctl")) --control \(rig.env.socketDir)/control\nhost h\(index + 1) root@127.0.0.1 \(options)\n"
            }
            users += "host h4 127.0.0.1 Port=\(port)\n"
            admins += "group silent\nhost h4 127.0.0.1 Port=\(port)\n"
            fleetFile = directory + "/fleet"
            adminFleetFile = directory + "/admin-fleet"
            try users.write(toFile: fleetFile, atomically: true, encoding: .utf8)
            try admins.write(toFile: adminFleetFile, atomically: true, encoding: .utf8)
        }

        deinit {
            // The master connections this rig's runs left, each ended by its own socket.
            let sockets = controlDirectory + "/rtty-ssh"
            for socket in (try? FileManager.default.contentsOfDirectory(atPath: sockets)) ?? [] {
                _ = try? ProcessRun.run("/usr/bin/ssh", ["-o", "ControlPath=\(sockets)/\(socket)", "-O", "exit", "fleet"], input: "", timeout: 5)
            }
            close(silentListener)
            try? FileManager.default.removeItem(atPath: directory)
        }

        var environment: [String: String] { ["PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": controlDirectory, "HOME": directory] }

        /// The built rtty, under a shell that waits for it (it becomes ssh when it attaches).
        func rtty(_ arguments: [String], input: String = "", file: String? = nil) throws -> ProcessRun {
            let (program, argv) = ProcessRun.shielded(BuiltProducts.path("rtty"), ["--fleet-file", file ?? fleetFile] + arguments)
            return try ProcessRun.run(program, argv, input: input, environment: environment, timeout: 30)
        }

        func rttyctl(_ arguments: [String]) throws -> ProcessRun {
            try ProcessRun.run(BuiltProducts.path("rttyctl"), ["--fleet-file", adminFleetFile] + arguments, input: "", environment: environment, timeout: 30)
        }

        /// A listening socket whose connections are never accepted.
        static func silentPort() throws -> (Int32, Int) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard ok, listen(fd, 16) == 0 else { throw HarnessError("cannot make the silent host's socket: errno \(errno)") }
            return (fd, Int(UInt16(bigEndian: address.sin_port)))
        }
    }

    static func lines(_ text: String) throws -> [String: [String: Any]] {
        var out: [String: [String: Any]] = [:]
        for line in text.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            out[try #require(object["host"] as? String)] = object
        }
        return out
    }

    static func consoles(_ host: [String: Any]?) -> [String: [String: Any]] {
        Dictionary(uniqueKeysWithValues: ((host?["consoles"] as? [[String: Any]]) ?? []).map { ($0["name"] as? String ?? "?", $0) })
    }

    @Test(.enabled(if: SSHRig.enabled)) func listsEveryHostAndShowsTheSilentOneWithoutWaitingForIt() throws {
        let rig = try Rig()
        let started = Date()
        let run = try rig.rtty(["--fleet", "--json"])
        let seconds = Date().timeIntervalSince(started)
        #expect(run.status == 1, "one host did not answer; stderr: \(run.stderr)")
        let hosts = try Self.lines(run.stdout)
        #expect(hosts.keys.sorted() == ["h1", "h2", "h3", "h4"], "\(run.stdout)")
        let h1 = Self.consoles(hosts["h1"])
        #expect(h1.keys.sorted() == ["pbx", "util"], "\(run.stdout) \(run.stderr)")
        #expect(h1["pbx"]?["rights"] as? String == "rw" && h1["util"]?["rights"] as? String == "ro")
        #expect(h1["pbx"]?["state"] as? String == "up" && h1["pbx"]?["clients"] as? Int == 0, "\(run.stdout)")
        #expect(Self.consoles(hosts["h2"]).keys.sorted() == ["lab1", "shared"])
        #expect(Self.consoles(hosts["h3"]).keys.sorted() == ["shared"], "secret is not alice's: not listed")
        #expect(hosts["h4"]?["ok"] as? Bool == false)
        #expect((hosts["h4"]?["error"] as? String)?.contains("no answer within 3.0 s") == true, "\(run.stdout)")
        // Parallel: the silent host's 3 s are the whole wait, not added to the others'.
        #expect(seconds < 3 + 4, "took \(seconds) s")

        // The table, and a second listing over the master connections the first one left.
        let table = try rig.rtty(["--fleet"])
        #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix("h4 ") && $0.hasSuffix("  (no answer within 3.0 s)") }, "\(table.stdout)")
        #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix("h1") && $0.contains("util") && $0.contains(" ro ") }, "\(table.stdout)")
        let sockets = try FileManager.default.contentsOfDirectory(atPath: rig.controlDirectory + "/rtty-ssh")
        #expect(sockets.count == 3, "one master connection per answering host: \(sockets)")
    }

    @Test(.enabled(if: SSHRig.enabled)) func attachesByNameOrHostNameWithTheShellsExitStatus() throws {
        let rig = try Rig()
        let pbx = try rig.rtty(["pbx"], input: "hello\n")
        #expect(pbx.status == 0, "\(pbx.stderr)")
        #expect(pbx.stdout.contains("pbx:hello"), "stdout: \(pbx.stdout) stderr: \(pbx.stderr)")

        let ambiguous = try rig.rtty(["shared"], input: "")
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.contains("console shared is on 2 hosts: h2, h3; say which, e.g. rtty h2:shared"), "\(ambiguous.stderr)")

        let named = try rig.rtty(["h3:shared"], input: "hi\n")
        #expect(named.status == 0 && named.stdout.contains("shared:hi"), "stdout: \(named.stdout) stderr: \(named.stderr)")
        try waitUntil(timeout: 5, "the session on h3:\n\(rig.hosts[2].audit)") {
            SSHTests.line(rig.hosts[2].audit, "session-end", user: rig.hosts[2].user("alice")) != nil
        }
        #expect(SSHTests.line(rig.hosts[1].audit, "session-start", user: rig.hosts[1].user("alice")) == nil, "nothing went to h2")

        let missing = try rig.rtty(["nothere"], input: "")
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("no host of the fleet") && missing.stderr.contains("not heard from: h4"), "\(missing.stderr)")
        // h1 has no console secret for alice: rtty-shell's own answer and exit status.
        let denied = try rig.rtty(["h1:secret"], input: "")
        #expect(denied.status == 3, "\(denied.stderr)")
        #expect(denied.stderr.contains("may not use a console named secret"), "\(denied.stderr)")
        let readOnly = try rig.rtty(["--read-only", "h2:lab1"], input: "typed\n")
        #expect((readOnly.stdout + readOnly.stderr).contains("read-only") && !readOnly.stdout.contains("lab1:typed"), "stdout: \(readOnly.stdout) stderr: \(readOnly.stderr)")
    }

    /// Attack: a console or host name that ssh would read as an option (ProxyCommand runs a
    /// command on the user's own machine), or a shell as a command, never gets that far.
    @Test(.enabled(if: SSHRig.enabled)) func namesThatCouldBeOptionsOrShellNeverReachSSH() throws {
        let rig = try Rig()
        let marker = rig.directory + "/pwned"
        let payload = "-oProxyCommand=touch${IFS}\(marker)"
        for word in [payload, "h1:" + payload, "pbx;touch${IFS}\(marker)", "h1:$(touch${IFS}\(marker))"] {
            let run = try rig.rtty(["--", word], input: "")
            #expect(run.status == 2, "\(word): \(run.stderr)")
            #expect(run.stderr.contains("console name"), "\(word): \(run.stderr)")
        }
        // Names in the fleet file are refused with their line before any ssh runs.
        let hostile = rig.directory + "/hostile"
        try "host ok 127.0.0.1\nhost \(payload)\n".write(toFile: hostile, atomically: true, encoding: .utf8)
        let refused = try rig.rtty(["--fleet"], file: hostile)
        #expect(refused.status == 1 && refused.stderr.contains("\(hostile):2:"), "\(refused.stderr)")
        // A fleet file others can write is not used: its options would run commands.
        chmod(hostile, 0o666)
        try "host ok 127.0.0.1 ProxyCommand=touch${IFS}\(marker)\n".write(toFile: hostile, atomically: false, encoding: .utf8)
        let writable = try rig.rtty(["--fleet"], file: hostile)
        #expect(writable.status == 1 && writable.stderr.contains("can be written by others"), "\(writable.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// rtty-shell's listing: what the daemon says for this user and nothing else, and a
    /// request that is more than `list --json` is refused.
    @Test(.enabled(if: SSHRig.enabled)) func shellListingShowsOnlyTheUsersConsolesAndRefusesMore() throws {
        let rig = try Rig()
        let h1 = rig.hosts[0]
        let none = try h1.ssh("nobody", ["list", "--json"], input: "")
        #expect(none.status == 0, "\(none.stderr)")
        #expect(none.stdout == #"{"consoles":[],"user":"\#(h1.user("nobody"))","version":1}"# + "\n", "\(none.stdout.debugDescription)")

        let watcher = try h1.startSSH("alice", ["pbx"])
        try waitUntil(timeout: 10, "alice's session on pbx") { SSHTests.line(h1.audit, "session-start", user: h1.user("alice")) != nil }
        let listed = try h1.ssh("alice", ["list", "--json"], input: "")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any], "\(listed.stdout)")
        let consoles = Self.consoles(object)
        #expect(consoles["pbx"]?["clients"] as? Int == 1, "\(listed.stdout)")
        #expect(consoles["util"]?["settings"] as? String != nil, "\(listed.stdout)")
        withExtendedLifetime(watcher) {}

        let text = try h1.ssh("alice", ["list"], input: "")
        #expect(text.status == 0 && text.stdout.contains("util") && text.stdout.contains("ro"), "\(text.stdout) \(text.stderr)")
        for words in [["list", "--json", "extra"], ["list", "--json;id"], ["list", "--xml"], ["list", "-r"]] {
            let run = try h1.ssh("alice", words, input: "")
            #expect(run.status == 1, "\(words): \(run.stdout) \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(words): \(run.stdout)")
            #expect(run.stderr.contains("rtty-shell:"), "\(words): \(run.stderr)")
        }
    }

    @Test(.enabled(if: SSHRig.enabled)) func rttyctlFleetAttributesEveryRowToItsHost() throws {
        let rig = try Rig()
        let watcher = try rig.hosts[1].startSSH("alice", ["lab1"])
        try waitUntil(timeout: 10, "alice's session on h2") { SSHTests.line(rig.hosts[1].audit, "session-start", user: rig.hosts[1].user("alice")) != nil }
        let status = try rig.rttyctl(["--fleet", "status"])
        #expect(status.status == 1, "h4 did not answer: \(status.stderr)")
        let rows = status.stdout.split(separator: "\n").map(String.init)
        for (host, console) in [("h1", "pbx"), ("h1", "util"), ("h2", "lab1"), ("h2", "shared"), ("h3", "shared"), ("h3", "secret")] {
            #expect(rows.contains { $0.hasPrefix("\(host)  \(console)  up") }, "\(host) \(console): \(status.stdout) \(status.stderr)")
        }
        #expect(rows.contains("h4  (no answer within 3.0 s)"), "\(status.stdout)")
        #expect(status.stderr.contains("1 of 4 hosts did not answer: h4"), "\(status.stderr)")

        let who = try rig.rttyctl(["who", "--fleet", "--json"])
        let hosts = try Self.lines(who.stdout)
        let answer = try #require(hosts["h2"]?["answer"] as? [String: Any], "\(who.stdout)")
        let lab1 = ((answer["consoles"] as? [[String: Any]]) ?? []).first { $0["name"] as? String == "lab1" }
        #expect(((lab1?["clients"] as? [[String: Any]]) ?? []).count == 1, "\(who.stdout)")
        #expect(hosts["h4"]?["ok"] as? Bool == false)
        withExtendedLifetime(watcher) {}

        let other = try rig.rttyctl(["--fleet", "kick", "x"])
        #expect(other.status != 0 && other.stderr.contains("--fleet works with status and who only"), "\(other.stderr)")
    }

    /// Attack: a host (compromised, or not a console host at all) answers the listing with
    /// terminal controls in its names and a second JSON document; the workstation's table
    /// shows them inert and its --json lines stay one object each. The host is a stand-in
    /// `ssh` first in PATH, which is all rtty runs.
    @Test func aHostileHostsAnswerReachesTheTerminalInertAndCannotBreakTheJSON() throws {
        let directory = NSTemporaryDirectory() + "rtty-fleet-hostile-" + UUID().uuidString.prefix(6)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let listing = #"{"version":1,"user":"u\u001b]0;owned\u0007","consoles":[{"name":"a\u001b[2Jb","rights":"rw","state":"up\nfake  row","settings":"\u009b31m"}]}"#
        let script = """
            #!/bin/sh
            case "$*" in
            *rttyctl*) echo '{"ok":true,"consoles":[]} {"ok":true}' ;;
            *) printf '%s\n' '\(listing)' ;;
            esac
            """
        try script.write(toFile: directory + "/ssh", atomically: true, encoding: .utf8)
        chmod(directory + "/ssh", 0o755)
        try "host evil 127.0.0.1\n".write(toFile: directory + "/fleet", atomically: true, encoding: .utf8)
        chmod(directory + "/fleet", 0o600)
        let environment = ["PATH": directory + ":/usr/bin:/bin", "HOME": directory, "XDG_RUNTIME_DIR": directory]
        let table = try ProcessRun.run(BuiltProducts.path("rtty"), ["--fleet-file", directory + "/fleet"], input: "", environment: environment)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(!table.stdout.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x9b || $0.value == 0x07 }, "\(table.stdout.debugDescription)")
        #expect(table.stdout.contains(#"a\x1b[2Jb"#) && table.stdout.contains(#"up\x0afake  row"#), "\(table.stdout)")
        #expect(table.stdout.split(separator: "\n").count == 2, "a header and one row: \(table.stdout)")
        let json = try ProcessRun.run(BuiltProducts.path("rtty"), ["--fleet-file", directory + "/fleet", "--json"], input: "", environment: environment)
        let lines = json.stdout.split(separator: "\n")
        #expect(lines.count == 1, "\(json.stdout)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(Self.consoles(object)["a\u{1b}[2Jb"]?["state"] as? String == "up\nfake  row", "the data kept, as data: \(json.stdout)")
        let control = try ProcessRun.run(
            BuiltProducts.path("rttyctl"), ["--fleet-file", directory + "/fleet", "--json", "status", "--fleet"], input: "", environment: environment)
        #expect(control.status == 1, "\(control.stdout) \(control.stderr)")
        #expect(control.stdout.contains(#""ok":false"#) && control.stdout.contains("not rttyctl's JSON"), "\(control.stdout)")
        #expect(try JSONSerialization.jsonObject(with: Data(control.stdout.utf8)) is [String: Any], "\(control.stdout)")
    }
}
