import Foundation
import RTTYCore
import RTTYSystem

/// The whole story on one machine, set up as rtty-shell(8) tells an admin to: a private
/// OpenSSH server on 127.0.0.1 (own config, host key and port), test users whose login
/// shell is a setgid copy of rtty-shell, a socket group they are not in, a `Match Group`
/// block with ForceCommand, a PAM service (pam_matrix) and rttyd with its consoles. The
/// setgid shell takes no path from its caller and reads /etc/rtty/rtty.conf and the system's
/// PAM service `rtty`, so sshd runs in a private mount namespace in which the rig's directory
/// is /etc/rtty and its PAM directory is /etc/pam.d (PrivateEtc); the rig's files are in
/// /var/lib, where only root can write, as the shell demands. Everything it creates (users, groups, files) goes away in `deinit`.
/// Needs root: CI runs as root.
final class SSHRig {
    static let sshd = "/usr/sbin/sshd"
    static var enabled: Bool { ProcessIdentity.isRoot || ProcessInfo.processInfo.environment["CI"] == "true" }
    static let password = "console-secret"

    struct Grant {
        let role: String
        let consoles: String
        let rights: String
    }

    let env: TestEnvironment
    let tag: String
    let socketGroup: String
    let usersGroup: String
    let port: Int
    private(set) var daemon: DaemonProcess!
    private let sshdProcess = Process()
    private let accounts = LocalAccounts()

    var clientKey: String { env.root + "/client_key" }
    var shellPath: String { env.root + "/bin/rtty-shell" }
    var accessPath: String { env.root + "/access" }
    var audit: String { (try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? "" }

    /// `consoles` is the body of rtty.conf ([console.X] tables); `roles` become users
    /// named `rt<tag><role>`; `grants` become the ACL.
    /// `keyOnly`: the PAM service asks nothing (pam_permit), as the shipped one for key
    /// users, so a batch ssh (a fleet listing) gets in with the key alone.
    init(consoles: String, roles: [String], grants: [Grant], keyOnly: Bool = false) throws {
        guard ProcessIdentity.isRoot else { throw HarnessError("the ssh tests need root (CI runs as root)") }
        tag = String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(6))
        socketGroup = "rts\(tag)"
        usersGroup = "rtu\(tag)"
        env = try TestEnvironment(under: URL(fileURLWithPath: "/var/lib"))
        port = try Self.freePort()
        do {
            try setUp(consoles: consoles, roles: roles, grants: grants, keyOnly: keyOnly)
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    func user(_ role: String) -> String { "rt\(tag)\(role)" }

    private func setUp(consoles: String, roles: [String], grants: [Grant], keyOnly: Bool) throws {
        chmod(env.root, 0o755)
        for group in [socketGroup, usersGroup] {
            try accounts.addGroup(group)
        }
        // The login shell: a setgid copy, as `make install` puts it.
        try FileManager.default.createDirectory(atPath: env.root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: BuiltProducts.path("rtty-shell"), toPath: shellPath)
        try Self.must("/bin/chgrp", [socketGroup, shellPath])
        chmod(env.root + "/bin", 0o755)
        chmod(shellPath, 0o2755)
        try FileManager.default.createDirectory(atPath: env.root + "/keys", withIntermediateDirectories: true)
        try Self.must("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey])
        try Self.must("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", env.root + "/host_key"])
        let publicKey = try String(contentsOfFile: clientKey + ".pub", encoding: .utf8)
        var passdb = ""
        for role in roles {
            let name = user(role)
            // '*': no password login, but not locked ('!'), which sshd would refuse.
            try accounts.addUser(name, ["-M", "-d", "/nonexistent", "-s", shellPath, "-G", usersGroup, "-p", "*"])
            try publicKey.write(toFile: env.root + "/keys/" + name, atomically: true, encoding: .utf8)
            passdb += "\(name):\(Self.password):rtty\n"
        }
        // PAM: the rtty service checks a password file with pam_matrix.
        let pamDir = env.root + "/pam"
        try FileManager.default.createDirectory(atPath: pamDir, withIntermediateDirectories: true)
        try passdb.write(toFile: pamDir + "/passdb", atomically: true, encoding: .utf8)
        let module = keyOnly ? "/lib/x86_64-linux-gnu/security/pam_permit.so" : "\(ShellTests.pamMatrix) passdb=\(pamDir)/passdb"
        try "auth     required \(module)\naccount  required \(module)\n".write(toFile: pamDir + "/rtty", atomically: true, encoding: .utf8)
        try writeACL(grants)
        try env.writeConfig(consoles, group: socketGroup)
        daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        try startSSHD()
    }

    func writeACL(_ grants: [Grant]) throws {
        let text = grants.map { "\(user($0.role)) \($0.consoles) \($0.rights)\n" }.joined()
        try ("# test ACL\n" + text).write(toFile: accessPath, atomically: true, encoding: .utf8)
    }

    private func startSSHD() throws {
        // sshd refuses to start without its privilege-separation directory.
        try Files.makeDirectory("/run/sshd", mode: 0o755)
        let config = env.root + "/sshd_config"
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(env.root)/host_key
            PidFile \(env.root)/sshd.pid
            AuthorizedKeysFile \(env.root)/keys/%u
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            LogLevel VERBOSE
            Subsystem sftp internal-sftp

            \(try Self.shippedSnippet(group: usersGroup, shell: shellPath))
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try Self.must(Self.sshd, ["-t", "-f", config])
        // env.root holds rtty.conf (the file rttyd reads too) and the ACL it names.
        let (unshare, namespaced) = try PrivateEtc.command(rtty: env.root, pam: env.root + "/pam", [Self.sshd, "-D", "-e", "-f", config])
        let (program, argv) = ProcessRun.shielded(unshare, namespaced)
        sshdProcess.executableURL = URL(fileURLWithPath: program)
        sshdProcess.arguments = argv
        let log = env.root + "/sshd.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let logHandle = FileHandle(forWritingAtPath: log)
        sshdProcess.standardError = logHandle
        try sshdProcess.start()
        try? logHandle?.close()  // sshd has its own copy
        try waitUntil(timeout: 10, "sshd to listen on port \(port); its log:\n\(sshdLog)") { Self.canConnect(port: port) }
    }

    /// packaging/sshd_config.d/rtty.conf as shipped, for this rig's group and shell path,
    /// so the tests prove the snippet admins install.
    static func shippedSnippet(group: String, shell: String) throws -> String {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = repository.appendingPathComponent("packaging/sshd_config.d/rtty.conf").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard text.contains("Match Group rtty-users"), text.contains("ForceCommand /usr/sbin/rtty-shell") else {
            throw HarnessError("\(path) no longer has the Match block the tests expect")
        }
        return text.replacingOccurrences(of: "Match Group rtty-users", with: "Match Group \(group)")
            .replacingOccurrences(of: "/usr/sbin/rtty-shell", with: shell)
    }

    var sshdLog: String { (try? String(contentsOfFile: env.root + "/sshd.log", encoding: .utf8)) ?? "" }

    /// `ssh ROLE@127.0.0.1 ARGS...` with the test key; `tty` forces a remote pty (-tt).
    /// `options` come first, so they win over the rig's (ssh keeps the first value).
    func ssh(_ role: String, _ arguments: [String] = [], input: String, tty: Bool = false, options: [String] = [], timeout: Double = 20) throws -> ProcessRun {
        let (program, argv) = ProcessRun.shielded("/usr/bin/ssh", options + sshOptions + [tty ? "-tt" : "-T", "\(user(role))@127.0.0.1"] + arguments)
        return try ProcessRun.run(program, argv, input: input, timeout: timeout)
    }

    var sshOptions: [String] {
        [
            "-p", String(port), "-i", clientKey, "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            // rtty's `~` escapes, not ssh's, must see the tildes.
            "-e", "none",
        ]
    }

    /// A running ssh client, for sessions that must stay up while the test acts.
    func startSSH(_ role: String, _ arguments: [String] = [], tty: Bool = false, options: [String] = []) throws -> LiveProcess {
        let (program, argv) = ProcessRun.shielded("/usr/bin/ssh", options + sshOptions + [tty ? "-tt" : "-T", "\(user(role))@127.0.0.1"] + arguments)
        return try LiveProcess(program, argv)
    }

    /// The built rttyctl against this rig's daemon, as root.
    func rttyctl(_ arguments: [String]) throws -> ProcessRun {
        let control = ["--control", env.socketDir + "/control"]
        let words = arguments + control
        return try ProcessRun.run(BuiltProducts.path("rttyctl"), words, input: "")
    }

    private func tearDown() {
        if sshdProcess.isRunning {
            ProcessRun.killTree(sshdProcess.processIdentifier)
            try? waitUntil(timeout: 5, "sshd to be reaped") { !sshdProcess.isRunning }
        }
        sshdProcess.reap()
        accounts.removeAll()
    }

    static func must(_ program: String, _ arguments: [String]) throws {
        let run = try ProcessRun.run(program, arguments, input: "")
        guard run.status == 0 else {
            throw HarnessError("\(program) \(arguments.joined(separator: " ")) failed (\(run.status)): \(run.stderr)")
        }
    }

    /// A port nothing listens on now (bind to 0, read it back, close).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw HarnessError("cannot find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
