import Foundation
import RTTYSystem
import Testing

/// Attacks on the installed, setgid rtty-shell by a local user with no grant (SetIDRig):
/// each tries to make it load a PAM module the attacker built, which would then run with the
/// socket group (the whole ACL, every console socket, forged reports). The module writes
/// down its effective group, so a win is seen, not guessed. Needs root, as CI is.
@Suite struct SetIDShellTests {
    static var enabled: Bool { SSHRig.enabled }

    /// "Any local user wins a check-then-open race on RTTY_CONFIG": a symlink in /tmp flips
    /// between a root-owned config (which passes a check that follows links) and the
    /// attacker's own, whose pam_service_dir names the attacker's PAM service.
    @Test(.enabled(if: enabled)) func symlinkRaceOnRTTYConfigNeverLoadsTheCallersPAMModule() throws {
        let rig = try SetIDRig()
        let link = "/tmp/rtty-setid-\(rig.tag).link"
        defer { unlink(link); unlink(link + ".next") }
        let race = try rig.runAsAttacker(
            rig.home + "/race", [link, rig.etcRTTY + "/rtty.conf", rig.home + "/hostile.conf", rig.shell, "150", rig.marker], timeout: 120)
        #expect(rig.markerText.isEmpty, "the attacker's PAM module ran inside setgid rtty-shell: \(race.stdout) \(rig.markerText)")
        #expect(race.stdout.contains("lost all 150 tries"), "\(race.stdout) \(race.stderr)")
        // And one plain run: the system's PAM service (which denies) decided, not the attacker's.
        let once = try rig.shellAsAttacker(environment: ["RTTY_CONFIG": rig.home + "/hostile.conf"])
        #expect(once.status == 3, "\(once.stderr)")  // access denied
        #expect(once.stderr.contains("login refused"), "\(once.stderr)")
        #expect(rig.markerText.isEmpty, "\(rig.markerText)")
    }

    /// A root-owned config in a world-writable sticky directory (say one a tool of root's left
    /// in /tmp) is not root's to vouch for: the setgid shell takes no path from its caller.
    @Test(.enabled(if: enabled)) func rootOwnedConfigInAStickyDirectoryIsNotUsed() throws {
        let rig = try SetIDRig()
        let config = "/tmp/rtty-setid-\(rig.tag)-root.conf"
        defer { unlink(config) }
        try "[paths]\npam_service_dir = \"\(rig.hostilePAMDir)\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        let run = try rig.shellAsAttacker(environment: ["RTTY_CONFIG": config])
        #expect(rig.markerText.isEmpty, "the attacker's PAM module ran (socket group \(rig.socketGID)): \(rig.markerText) \(run.stderr)")
        #expect(run.stderr.contains("login refused"), "\(run.stderr)")
    }

    /// Not in the issue: the compiled-in path itself was read with no checks at all, so a
    /// member of a group that may write /etc/rtty (an admin's slip) swaps in a config of
    /// their own. The setgid shell refuses, naming the directory and what is wrong with it.
    @Test(.enabled(if: enabled)) func groupWritableConfigDirectoryIsRefusedWithTheReason() throws {
        let rig = try SetIDRig()
        let gid = try #require(Accounts.primaryGroup(ofUser: rig.attacker))
        _ = chown(rig.etcRTTY, 0, gid)
        chmod(rig.etcRTTY, 0o775)
        let swap = "cp \(rig.home)/hostile.conf /etc/rtty/rtty.conf.new && mv -f /etc/rtty/rtty.conf.new /etc/rtty/rtty.conf && exec \(rig.shell)"
        let run = try rig.runAsAttacker("/bin/sh", ["-c", swap])
        #expect(rig.markerText.isEmpty, "the attacker's PAM module ran (socket group \(rig.socketGID)): \(rig.markerText) \(run.stderr)")
        #expect(run.status == 1)
        #expect(run.stderr.contains("/etc/rtty"), "\(run.stderr)")
        #expect(run.stderr.contains("writable by its group"), "\(run.stderr)")
    }

    /// Not in the issue either: `pam_service_dir` in root's own /etc/rtty/rtty.conf, pointing
    /// at a directory someone else can write, was honoured by the setgid shell. It never is:
    /// the system's PAM service decides.
    @Test(.enabled(if: enabled)) func pamServiceDirInRootsOwnConfigIsIgnoredWhenSetID() throws {
        let rig = try SetIDRig()
        try rig.writeRootConfig("pam_service_dir = \"\(rig.hostilePAMDir)\"")
        let run = try rig.shellAsAttacker()
        #expect(rig.markerText.isEmpty, "the attacker's PAM module ran (socket group \(rig.socketGID)): \(rig.markerText) \(run.stderr)")
        #expect(run.stderr.contains("login refused"), "\(run.stderr)")
    }
}

extension SetIDShellTests {
    /// The ACL named by root's config, in a directory where the attacker can put a symlink
    /// (an admin's slip): the setgid shell read whatever it pointed at (here the attacker's
    /// own list granting them the console). Now the ACL is read like the config, and refused.
    @Test(.enabled(if: enabled)) func aclBehindAnAttackersSymlinkIsRefused() throws {
        let rig = try SetIDRig()
        let acl = "/tmp/rtty-setid-\(rig.tag)-access"
        defer { unlink(acl) }
        try rig.writeRootConfig("", access: acl)
        try rig.writeAttackerFile("access", "\(rig.attacker) pbx rw\n")
        try "auth required pam_permit.so\naccount required pam_permit.so\n".write(toFile: rig.etcPAM + "/rtty", atomically: true, encoding: .utf8)
        let run = try rig.runAsAttacker("/bin/sh", ["-c", "ln -s \(rig.home)/access \(acl) && exec \(rig.shell)"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("misconfigured (\(acl): /tmp is writable by others"), "\(run.stderr)")
        #expect(!run.stderr.contains("cannot open console"), "the attacker's ACL was used: \(run.stderr)")
    }

    /// A guard, not a fix of ours: the loader and the Swift runtime take no library from the
    /// environment of a set-id program (LD_PRELOAD, LD_LIBRARY_PATH; the runtime's
    /// prespecializations path is only looked up, never loaded; SWIFT_BACKTRACE is off for
    /// privileged executables). If a toolchain or libc ever changed that, this fails.
    @Test(.enabled(if: enabled)) func loaderAndRuntimeVariablesLoadNothingIntoTheSetIDShell() throws {
        let rig = try SetIDRig()
        let library = rig.home + "/hostile.so"
        let run = try rig.shellAsAttacker(environment: [
            "LD_PRELOAD": library, "LD_LIBRARY_PATH": rig.home, "SWIFT_DEBUG_LIB_PRESPECIALIZED_PATH": library,
            "SWIFT_BACKTRACE": "enable=yes,swift-backtrace=\(rig.home)/race",
        ])
        #expect(rig.markerText.isEmpty, "the attacker's library was loaded: \(rig.markerText) \(run.stderr)")
        #expect(run.stderr.contains("login refused"), "\(run.stderr)")
    }
}
