import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The daemon decides from the peer's uid against the ACL. These tests run `rtty` as
/// `nobody` through setpriv, so they need root (CI is root).
@Suite struct AccessTests {
    static let needsRoot = ProcessIdentity.isRoot || ProcessInfo.processInfo.environment["CI"] == "true"

    struct Rig {
        let env: TestEnvironment
        let guest: PtyGuest
        let daemon: DaemonProcess

        init(acl: String) throws {
            env = try TestEnvironment()
            guest = try PtyGuest()
            try acl.write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
            // Socket group nogroup, so that `nobody` (gid 65534) can open it at all: the ACL
            // is what is tested here.
            try env.writeConfig("[console.pbx]\ndevice = \"\(guest.devicePath)\"\ngroup = \"\(Accounts.groupName(65534) ?? "nogroup")\"")
            daemon = try DaemonProcess(env)
            try daemon.waitForLog("source open")
        }

        func rttyAsNobody(_ arguments: [String], input: String) throws -> ClientTests.Run {
            try ClientTests.rtty(
                ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltProducts.path("rtty"), "--socket-dir", env.socketDir] + arguments,
                input: input, executable: "/usr/bin/setpriv")
        }

        var audit: String { (try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? "" }
    }

    @Test(.enabled(if: needsRoot)) func userWithoutALineIsDeniedAndAudited() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig(acl: "someoneelse * rw\n")
        let run = try rig.rttyAsNobody(["--timeout", "1", "pbx"], input: "hello\n")
        #expect(run.stderr.contains("access denied: nobody may not use console pbx"), "stderr: \(run.stderr)")
        #expect(try !rig.guest.received("hello", beforeMarkerTypedOn: rig.env.socket("pbx")))
        try waitUntil(timeout: 5, "a denied record in the audit log") { rig.audit.contains(#""event":"denied""#) }
        #expect(rig.audit.contains(#""uid":65534"#))
        let mode = try FileManager.default.attributesOfItem(atPath: rig.env.logDir + "/audit.jsonl")[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test(.enabled(if: needsRoot)) func readOnlyLineLetsWatchButNotType() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig(acl: "nobody pbx ro\n")
        try rig.guest.write("visible output")
        let run = try rig.rttyAsNobody(["--timeout", "1", "pbx"], input: "typed\n")
        #expect(run.stdout.contains("visible output"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("read-only"), "stderr: \(run.stderr)")
        #expect(try !rig.guest.received("typed", beforeMarkerTypedOn: rig.env.socket("pbx")))
        try waitUntil(timeout: 5, "session start and end records") {
            rig.audit.contains(#""event":"session-start""#) && rig.audit.contains(#""event":"session-end""#)
        }
        #expect(rig.audit.contains(#""rights":"ro""#))
    }

    @Test(.enabled(if: needsRoot)) func revokingInTheACLEndsTheLiveSession() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig(acl: "nobody pbx rw\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltProducts.path("rtty"), "--socket-dir", rig.env.socketDir, "pbx"]
        let stdin = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.start()
        defer { process.reap(stdin, stderr) }
        try waitUntil(timeout: 5, "the session to start") { rig.audit.contains(#""event":"session-start""#) }
        try "someoneelse * rw\n".write(toFile: rig.env.root + "/access", atomically: true, encoding: .utf8)
        rig.daemon.signal(SIGHUP)
        try waitUntil(timeout: 5, "rtty to be disconnected") { !process.isRunning }
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(err.contains("revoked"), "stderr: \(err)")
        try waitUntil(timeout: 5, "the session-end record") { rig.audit.contains(#""reason":"access revoked""#) }
    }
}
