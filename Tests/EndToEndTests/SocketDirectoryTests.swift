import Foundation
import RTTYSystem
import Testing

/// The socket directory must let console users through whatever umask rttyd was started
/// with; when it does not, rttyd says so at start-up and the clients name the directory
/// instead of blaming the user's rights. Needs root (other users, setpriv), as CI is.
@Suite struct SocketDirectoryTests {
    static var enabled: Bool { SSHRig.enabled }
    static let nobody = ["--reuid=65534", "--regid=65534"]

    @Test(.enabled(if: enabled)) func rttydUnderUmask077StillMakesAnOpenSocketDirectory() throws {
        let env = try TestEnvironment()
        try env.writeConfig(#"[console.pbx]"# + "\nexec = [\"/bin/cat\"]\n")
        let daemon = try DaemonProcess(env, launcher: ["/bin/sh", "-c", #"umask 077; exec "$@""#, "sh"])
        try daemon.waitForSockets(["pbx"])
        var st = stat()
        #expect(stat(env.socketDir, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o755, "socket directory mode \(String(st.st_mode & 0o7777, radix: 8))")
        #expect(stat(env.logDir, &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o750, "log directory mode \(String(st.st_mode & 0o7777, radix: 8))")
        // Another user with the socket group gets as far as rttyd, which answers by uid.
        let socat = ["-t", "1", "-", "UNIX-CONNECT:\(env.socket("pbx"))"]
        let run = try ProcessRun.run("/usr/bin/setpriv", Self.nobody + ["--groups=\(getegid())", "/usr/bin/socat"] + socat, input: "")
        #expect(run.stdout.contains("access denied"), "stdout: \(run.stdout.debugDescription) stderr: \(run.stderr)")
    }

    @Test(.enabled(if: enabled)) func closedSocketDirectoryIsReportedAtStartUp() throws {
        let env = try TestEnvironment()
        try FileManager.default.createDirectory(atPath: env.socketDir, withIntermediateDirectories: true)
        chmod(env.socketDir, 0o700)
        try env.writeConfig(#"[console.pbx]"# + "\nexec = [\"/bin/cat\"]\n")
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("rttyd running")
        #expect(daemon.stderr.contains("the socket directory \(env.socketDir) is closed to console users at \(env.socketDir) (mode 0700"), "\(daemon.stderr)")
    }

    /// The setgid shell, as a user granted the console, against a directory it cannot enter.
    @Test(.enabled(if: enabled)) func shellNamesTheDirectoryItCannotEnter() throws {
        let rig = try SetIDRig()
        try FileManager.default.createDirectory(atPath: rig.root + "/run", withIntermediateDirectories: true)
        chmod(rig.root + "/run", 0o700)
        try "\(rig.attacker) pbx rw\n".write(toFile: rig.etcRTTY + "/access", atomically: true, encoding: .utf8)
        try "auth required pam_permit.so\naccount required pam_permit.so\n".write(toFile: rig.etcPAM + "/rtty", atomically: true, encoding: .utf8)
        let run = try rig.shellAsAttacker()
        #expect(run.status == 1)
        #expect(run.stderr.contains("rtty-shell may not enter the directory \(rig.root)/run (mode 0700, root:root), which must be open to console users"), "\(run.stderr)")
        #expect(!run.stderr.contains("are you allowed"), "\(run.stderr)")
    }
}
