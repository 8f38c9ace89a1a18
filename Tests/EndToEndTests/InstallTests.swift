import Foundation
import Testing

/// scripts/install.sh (what `make install` runs) into a staging DESTDIR: layout, modes,
/// existing config kept, uninstall removes what install added and nothing else.
@Suite struct InstallTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func run(_ action: String, destdir: String) throws -> ProcessRun {
        try ProcessRun.run(
            "/bin/sh", [Self.repository.appendingPathComponent("scripts/install.sh").path, action], input: "",
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DESTDIR": destdir, "PREFIX": "/usr", "SYSCONFDIR": "/etc", "BUILD": BuiltProducts.directory.path])
    }

    @Test func installIntoDestdirThenUninstall() throws {
        let env = try TestEnvironment()
        let root = env.root + "/stage"
        let files = FileManager.default
        try files.createDirectory(atPath: root + "/etc/rtty", withIntermediateDirectories: true)
        try "# the admin's own config\n".write(toFile: root + "/etc/rtty/rtty.conf", atomically: true, encoding: .utf8)

        let install = try run("install", destdir: root)
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.contains("kept existing /etc/rtty/rtty.conf"))
        for path in ["/usr/sbin/rttyd", "/usr/sbin/rttyctl", "/usr/bin/rtty", "/usr/sbin/rtty-shell", "/usr/share/man/man8/rttyd.8",
                     "/usr/share/man/man5/rtty.conf.5", "/usr/lib/systemd/system/rttyd.service", "/etc/pam.d/rtty",
                     "/etc/ssh/sshd_config.d/rtty.conf", "/etc/rtty/access", "/usr/share/rtty/installed-files"] {
            #expect(files.fileExists(atPath: root + path), "\(path) not installed")
        }
        #expect(try files.attributesOfItem(atPath: root + "/usr/sbin/rtty-shell")[.posixPermissions] as? Int == 0o2755)
        #expect(try files.attributesOfItem(atPath: root + "/etc/rtty/access")[.posixPermissions] as? Int == 0o640)
        #expect(try String(contentsOfFile: root + "/etc/rtty/rtty.conf", encoding: .utf8) == "# the admin's own config\n")

        let uninstall = try run("uninstall", destdir: root)
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        for path in ["/usr/sbin/rttyd", "/usr/bin/rtty", "/usr/sbin/rtty-shell", "/usr/share/man/man8/rttyd.8", "/usr/share/rtty"] {
            #expect(!files.fileExists(atPath: root + path), "\(path) left after uninstall")
        }
        for kept in ["/etc/rtty/rtty.conf", "/etc/rtty/access", "/etc/pam.d/rtty"] {
            #expect(files.fileExists(atPath: root + kept), "\(kept) removed by uninstall")
        }
        let again = try run("uninstall", destdir: root)
        #expect(again.status != 0)
        #expect(again.stderr.contains("nothing installed"))
    }

    @Test(arguments: ["packaging/freebsd/rttyd.in", "packaging/debian/postinst", "packaging/debian/prerm", "packaging/debian/postrm", "scripts/install.sh"])
    func shellScriptsParse(script: String) throws {
        let check = try ProcessRun.run("/bin/sh", ["-n", Self.repository.appendingPathComponent(script).path], input: "")
        #expect(check.status == 0, "\(script): \(check.stderr)")
    }
}
