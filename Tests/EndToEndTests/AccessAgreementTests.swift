import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The three places that answer "may this user use this console" agree, for real local
/// users on one ACL: the daemon admitting a connection (rtty run as the user), the daemon's
/// `rttyctl acl check`, and rtty-shell's menu (run as the user, PAM through pam_wrapper).
/// All three call AccessDecision.decide; this checks they are wired to it the same way
/// (uid from the kernel, groups from the account database, root, admin_group, deny lines).
@Suite struct AccessAgreementTests {
    static let consoles = ["guests", "lab1", "pbx", "util"]

    @Test(.enabled(if: AccessTests.needsRoot && ShellTests.havePAMWrapper)) func daemonACLCheckAndShellAgree() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let accounts = LocalAccounts()
        let users = try accounts.group("users")
        let ops = try accounts.group("ops")
        let admins = try accounts.group("admins")
        let alice = try accounts.user("alice", groups: [users, ops]).name
        let mallory = try accounts.user("mallory", groups: [users, ops]).name
        let admin = try accounts.user("admin", groups: [users, admins]).name
        let guest = try accounts.user("guest", groups: [users]).name
        let vixie = try accounts.user("vixie", groups: [users]).name
        let acl = """
            root      *             none
            \(mallory)  *           none
            %\(ops)   pbx,lab*      rw
            \(guest)  guests        ro
            *         guests,lab1   ro
            \(vixie)  *             rw
            """
        // What each user gets on guests, lab1, pbx, util (root is first in the ACL, denied there).
        let expected: [String: [AccessList.Rights]] = [
            "root": [.rw, .rw, .rw, .rw],
            alice: [.ro, .rw, .rw, .none],
            mallory: [.none, .none, .none, .none],
            admin: [.ro, .ro, .none, .none],
            guest: [.ro, .ro, .none, .none],
            vixie: [.ro, .ro, .rw, .rw],
        ]

        let env = try TestEnvironment()
        try acl.write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
        let body = Self.consoles.map { "[console.\($0)]\nexec = [\"/bin/cat\"]\n" }.joined() + "[control]\nadmin_group = \"\(admins)\"\n"
        try env.writeConfig(body, group: users)
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(Self.consoles)
        let pamDir = env.root + "/pam"
        try FileManager.default.createDirectory(atPath: pamDir, withIntermediateDirectories: true)
        try expected.keys.map { "\($0):secret:rtty\n" }.joined().write(toFile: pamDir + "/passdb", atomically: true, encoding: .utf8)
        try "auth required \(ShellTests.pamMatrix) passdb=\(pamDir)/passdb\naccount required \(ShellTests.pamMatrix) passdb=\(pamDir)/passdb\n"
            .write(toFile: pamDir + "/rtty", atomically: true, encoding: .utf8)

        for (user, rights) in expected.sorted(by: { $0.key < $1.key }) {
            let shell = try Self.shellMenu(user, env: env, pamDir: pamDir)
            for (console, want) in zip(Self.consoles, rights) {
                let check = try Self.aclCheck(user, console, env: env)
                let admitted = try Self.admission(user, console, env: env)
                #expect(check == want && admitted == want && shell[console, default: .none] == want, "\(user) on \(console): acl check \(check), daemon \(admitted), rtty-shell \(shell[console, default: .none]); want \(want)")
            }
        }
    }

    /// `rttyctl acl check USER CONSOLE`: the daemon's answer.
    static func aclCheck(_ user: String, _ console: String, env: TestEnvironment) throws -> AccessList.Rights? {
        let run = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["acl", "check", "--json", "--control", env.socketDir + "/control", user, console], input: "")
        let check = try? JSONDecoder().decode(ControlACL.Check.self, from: Data(run.stdout.utf8))
        return check.flatMap { AccessList.Rights(rawValue: $0.rights) }
    }

    /// What the daemon does with a connection of that user: refuses it, or admits it with
    /// the rights it records.
    static func admission(_ user: String, _ console: String, env: TestEnvironment) throws -> AccessList.Rights {
        let rtty = [BuiltProducts.path("rtty"), "--socket-dir", env.socketDir, "--timeout", "0.5", console]
        let run =
            user == "root"
            ? try ProcessRun.run(rtty[0], Array(rtty.dropFirst()), input: "")
            : try ProcessRun.run("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--init-groups"] + rtty, input: "")
        if run.stderr.contains("access denied") { return .none }
        // Admitted: with the rights its session-start record says (the rtty client was
        // the last of this user on this console, and has ended).
        let records = auditFields((try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? "")
        let start = records.last { $0["event"] == "session-start" && $0["console"] == console && $0["user"] == user }
        guard let rights = start?["rights"].flatMap(AccessList.Rights.init) else {
            throw HarnessError("\(user) on \(console): neither refused nor recorded; rtty said \(run.stderr)")
        }
        return rights
    }

    /// rtty-shell's menu for that user: each console it lists, read-only or not.
    static func shellMenu(_ user: String, env: TestEnvironment, pamDir: String) throws -> [String: AccessList.Rights] {
        let environment = [
            "PATH": "/usr/bin:/bin", "USER": user, "RTTY_CONFIG": env.configPath, "SSH_CONNECTION": "192.0.2.7 51234 127.0.0.1 22",
            "LD_PRELOAD": ShellTests.pamWrapper, "PAM_WRAPPER": "1", "PAM_WRAPPER_SERVICE_DIR": pamDir,
        ]
        let shell = BuiltProducts.path("rtty-shell")
        let run =
            user == "root"
            ? try ProcessRun.run(shell, [], input: "secret\nq\n", environment: environment)
            : try ProcessRun.run("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--init-groups", shell], input: "secret\nq\n", environment: environment)
        var menu: [String: AccessList.Rights] = [:]
        for line in run.stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2, words[0].hasSuffix(")"), Int(words[0].dropLast()) != nil else { continue }
            menu[String(words[1])] = words.count > 2 && line.hasSuffix("(read-only)") ? .ro : .rw
        }
        if menu.isEmpty, run.status != 3 { throw HarnessError("rtty-shell as \(user) showed no menu and was not refused: \(run.status) \(run.stdout) \(run.stderr)") }
        return menu
    }
}
