import Foundation
import RTTYSystem

/// A command run in a private mount namespace in which `rtty` is /etc/rtty and `pam` is
/// /etc/pam.d: how tests give the set-id rtty-shell its compiled-in paths.
enum PrivateEtc {
    static func command(rtty: String, pam: String, _ command: [String]) throws -> (String, [String]) {
        // /etc/rtty exists on a host with rtty installed (and is removed with it); bind
        // mounts need it.
        try Files.makeDirectory("/etc/rtty", mode: 0o755)
        let script = #"mount --bind "$1" /etc/rtty && mount --bind "$2" /etc/pam.d && shift 2 && exec "$@""#
        return ("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script, "sh", rtty, pam] + command)
    }
}

/// A local attacker against the installed, setgid rtty-shell: a real non-root user with no
/// grant, a setgid copy of rtty-shell (group: a fresh "socket group"), hostile files the
/// attacker owns (a PAM module compiled here that records the effective group it ran with,
/// a PAM service naming it, configs), and a private mount namespace per run in which test
/// directories stand in for /etc/rtty and /etc/pam.d, so the compiled-in paths can be set up
/// without touching the host's. Needs root (CI is root).
final class SetIDRig {
    let tag: String
    let attacker: String
    let socketGroup: String
    /// Root-owned, 0755, on a file system that honours set-id bits (not /tmp: sticky and
    /// world-writable, which a setgid rtty-shell must refuse to read from).
    let root: String
    /// The attacker's own directory (in /tmp, owned by the attacker).
    let home: String
    private let accounts = LocalAccounts()

    var shell: String { root + "/bin/rtty-shell" }
    /// Bound at /etc/rtty in `runAsAttacker`.
    var etcRTTY: String { root + "/etc-rtty" }
    /// Bound at /etc/pam.d in `runAsAttacker`; its `rtty` service denies everyone.
    var etcPAM: String { root + "/pam.d" }
    /// Written by the attacker's PAM module when it runs: `egid=N` per call.
    var marker: String { home + "/marker" }
    var hostilePAMDir: String { home + "/pam" }
    var socketGID: UInt32 { Accounts.groupID(named: socketGroup) ?? UInt32.max }

    init() throws {
        guard ProcessIdentity.isRoot else { throw HarnessError("the set-id attack tests need root (CI runs as root)") }
        tag = String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(6))
        attacker = "rta\(tag)"
        socketGroup = "rtg\(tag)"
        root = "/var/lib/rtty-setid-\(tag)"
        home = "/tmp/rtty-setid-\(tag)"
        do {
            try setUp()
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    private func setUp() throws {
        try accounts.addGroup(socketGroup)
        try accounts.addUser(attacker, ["-M", "-d", "/nonexistent", "-s", "/bin/sh"])
        for dir in [root, root + "/bin", etcRTTY, etcPAM] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            chmod(dir, 0o755)
        }
        try FileManager.default.copyItem(atPath: BuiltProducts.path("rtty-shell"), toPath: shell)
        try SSHRig.must("/bin/chgrp", [socketGroup, shell])
        chmod(shell, 0o2755)
        var fs = statvfs()
        guard statvfs(shell, &fs) == 0, fs.f_flag & UInt(ST_NOSUID) == 0 else {
            throw HarnessError("\(root) is on a nosuid file system: the setgid copy of rtty-shell would not be setgid")
        }
        // The system's stack in the namespace: nobody passes it, so only a hostile stack
        // lets anyone through.
        try "auth required pam_deny.so\naccount required pam_deny.so\n".write(toFile: etcPAM + "/rtty", atomically: true, encoding: .utf8)
        try writeRootConfig("")

        try FileManager.default.createDirectory(atPath: hostilePAMDir, withIntermediateDirectories: true)
        let module = try CHelper.build("hostile.so", source: Self.hostileModule, inDirectory: home, options: ["-shared", "-fPIC", "-DMARKER=\"\(marker)\""])
        try "auth required \(module)\naccount required \(module)\n".write(toFile: hostilePAMDir + "/rtty", atomically: true, encoding: .utf8)
        _ = try CHelper.build("race", source: Self.raceHelper, inDirectory: home, options: ["-O2"])
        try writeAttackerFile("hostile.conf", "[paths]\npam_service_dir = \"\(hostilePAMDir)\"\n")
        try SSHRig.must("/bin/chown", ["-R", "\(attacker):", home])
        chmod(home, 0o755)
    }

    /// /etc/rtty/rtty.conf in the namespace: root's, 0644, with `paths` added.
    func writeRootConfig(_ paths: String, access: String? = nil) throws {
        let text = """
            [paths]
            socket_dir = "\(root)/run"
            access = "\(access ?? etcRTTY + "/access")"
            \(paths)

            [console.pbx]
            device = "/dev/null"
            """
        try text.write(toFile: etcRTTY + "/rtty.conf", atomically: true, encoding: .utf8)
        chmod(etcRTTY + "/rtty.conf", 0o644)
    }

    /// A file in the attacker's directory, owned by the attacker.
    func writeAttackerFile(_ name: String, _ text: String) throws {
        try text.write(toFile: home + "/" + name, atomically: true, encoding: .utf8)
        _ = chown(home + "/" + name, Accounts.userID(named: attacker) ?? 0, Accounts.primaryGroup(ofUser: attacker) ?? 0)
    }

    /// What the attacker's module recorded (empty if it never ran).
    var markerText: String { (try? String(contentsOfFile: marker, encoding: .utf8)) ?? "" }

    /// Runs `program` as the attacker (no other groups), in a private mount namespace where
    /// `etcRTTY` is /etc/rtty and `etcPAM` is /etc/pam.d.
    func runAsAttacker(_ program: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60) throws -> ProcessRun {
        guard let uid = Accounts.userID(named: attacker), let gid = Accounts.primaryGroup(ofUser: attacker) else {
            throw HarnessError("no user \(attacker)")
        }
        let env = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        // The environment is set after setpriv (root), so that only the attacker's programs see it.
        let command = ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "/usr/bin/env", "-i"]
            + env.map { "\($0)=\($1)" } + [program]
        let (unshare, argv) = try PrivateEtc.command(rtty: etcRTTY, pam: etcPAM, command + arguments)
        return try ProcessRun.run(
            unshare, argv,
            input: "", timeout: timeout)
    }

    /// The setgid rtty-shell run once by the attacker as a login shell.
    func shellAsAttacker(environment: [String: String] = [:]) throws -> ProcessRun {
        try runAsAttacker(shell, [], environment: environment)
    }

    private func tearDown() {
        accounts.removeAll()
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.removeItem(atPath: home)
    }

    /// A PAM module that does what a hostile one would show: it runs inside rtty-shell and
    /// writes down the effective group it has.
    static let hostileModule = """
        #include <security/pam_modules.h>
        #include <stdio.h>
        #include <unistd.h>
        static int hit(void) {
            FILE *f = fopen(MARKER, "a");
            if (f) { fprintf(f, "egid=%d\\n", (int)getegid()); fclose(f); }
            fprintf(stderr, "hostile PAM module running with egid %d\\n", (int)getegid());
            return PAM_SUCCESS;
        }
        /* Loaded at all into a set-id process (as a PAM module, or by the loader through
           LD_PRELOAD): that is enough. Plain programs of the attacker's do not count. */
        __attribute__((constructor)) static void loaded(void) {
            if (getegid() == getgid()) return;
            FILE *f = fopen(MARKER, "a");
            if (f) { fprintf(f, "loaded egid=%d\\n", (int)getegid()); fclose(f); }
        }
        PAM_EXTERN int pam_sm_authenticate(pam_handle_t *h, int f, int c, const char **v) { return hit(); }
        PAM_EXTERN int pam_sm_setcred(pam_handle_t *h, int f, int c, const char **v) { return PAM_SUCCESS; }
        PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *h, int f, int c, const char **v) { return hit(); }
        """

    /// The check-then-open race: a child flips LINK between two targets as fast as it can
    /// (symlink to a temp name, rename over LINK: LINK always exists), while the parent runs
    /// SHELL with RTTY_CONFIG=LINK until MARKER appears or TRIES runs are done.
    /// Usage: race LINK ROOT_TARGET OWN_TARGET SHELL TRIES MARKER
    static let raceHelper = """
        #include <fcntl.h>
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/wait.h>
        #include <unistd.h>
        int main(int argc, char **argv) {
            if (argc != 7) { fprintf(stderr, "usage: race LINK ROOT OWN SHELL TRIES MARKER\\n"); return 2; }
            const char *link = argv[1], *shell = argv[4], *marker = argv[6];
            int tries = atoi(argv[5]);
            char tmp[4096], env[4200];
            snprintf(tmp, sizeof tmp, "%s.next", link);
            snprintf(env, sizeof env, "RTTY_CONFIG=%s", link);
            unlink(link);
            if (symlink(argv[2], link) != 0) { perror("symlink"); return 2; }
            pid_t flipper = fork();
            if (flipper == 0) {
                for (unsigned long i = 0;; i++) {
                    unlink(tmp);
                    if (symlink(argv[2 + (i & 1)], tmp) == 0) rename(tmp, link);
                }
            }
            for (int i = 1; i <= tries; i++) {
                pid_t child = fork();
                if (child == 0) {
                    int null = open("/dev/null", O_RDWR);
                    dup2(null, 0); dup2(null, 1); dup2(null, 2);
                    char *args[] = {"-rtty-shell", NULL};
                    char *envp[] = {env, "PATH=/usr/bin:/bin", NULL};
                    execve(shell, args, envp);
                    _exit(127);
                }
                waitpid(child, NULL, 0);
                if (access(marker, F_OK) == 0) {
                    kill(flipper, SIGKILL);
                    printf("won after %d tries\\n", i);
                    return 0;
                }
            }
            kill(flipper, SIGKILL);
            printf("lost all %d tries\\n", tries);
            return 1;
        }
        """
}
