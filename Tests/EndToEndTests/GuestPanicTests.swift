import Foundation
import RTTYCore
import Testing

/// A real Linux guest: Debian's kernel under QEMU (TCG, so no /dev/kvm is needed) with a
/// busybox initramfs, as an exec console of rttyd with the shipped crash triggers
/// (packaging/etc/triggers.conf). The guest boots, then `echo c > /proc/sysrq-trigger`:
/// the kernel's own panic text on the serial console must fire the triggers, and nothing
/// of the boot before it may. Needs qemu-system-x86, linux-image-amd64, busybox-static and
/// cpio (scripts/deps test); outside CI it is skipped without them.
@Suite struct GuestPanicTests {
    static let qemu = "/usr/bin/qemu-system-x86_64"
    static let busybox = "/bin/busybox"

    static var kernel: String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []
        return names.filter { $0.hasPrefix("vmlinuz-") }.sorted().last.map { "/boot/" + $0 }
    }

    static var available: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
            || (kernel != nil && FileManager.default.isExecutableFile(atPath: qemu) && FileManager.default.isExecutableFile(atPath: busybox)
                && FileManager.default.isExecutableFile(atPath: "/usr/bin/cpio"))
    }

    /// An initramfs whose /init runs `script` (busybox sh), in `directory`.
    static func initramfs(in directory: String, script: String) throws -> String {
        let root = directory + "/initramfs"
        for sub in ["bin", "proc", "dev"] { try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(atPath: busybox, toPath: root + "/bin/busybox")
        try ("#!/bin/busybox sh\n" + script).write(toFile: root + "/init", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/init")
        let image = directory + "/initramfs.cpio"
        let pack = try ProcessRun.run("/bin/sh", ["-c", "cd '\(root)' && find . | cpio -o -H newc > '\(image)'"], input: "")
        guard pack.status == 0 else { throw HarnessError("cpio failed: \(pack.stderr)") }
        return image
    }

    @Test(.enabled(if: available), .timeLimit(.minutes(5)))
    func aRealKernelPanicFiresTheShippedTriggersAndTheBootDoesNot() throws {
        let kernel = try #require(Self.kernel, "no kernel in /boot (linux-image-amd64)")
        let env = try TestEnvironment()
        let image = try Self.initramfs(in: env.root, script: """
            /bin/busybox mount -t proc proc /proc
            echo "guest: up"
            /bin/busybox sleep 2
            echo 1 > /proc/sys/kernel/sysrq
            echo c > /proc/sysrq-trigger
            """)
        let shipped = try String(contentsOfFile: TriggerFiles.shipped, encoding: .utf8)
        // panic=-1 and -no-reboot: QEMU ends after the panic instead of booting again.
        let argv = [
            Self.qemu, "-accel", "tcg", "-m", "256", "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot", "-kernel", kernel, "-initrd", image, "-append", "console=ttyS0 panic=-1",
        ]
        try env.writeConfig("[console.guest]\nexec = [\(argv.map { "\"\($0)\"" }.joined(separator: ", "))]\n\n" + shipped)
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(["guest"])
        let watcher = try ProtocolClient(socket: env.socket("guest"))
        try watcher.waitForNotice(containing: "authorized")
        try watcher.identify("watcher@pts/1")

        try watcher.waitForNotice(containing: "trigger linux-panic: ", timeout: 240)
        try watcher.waitForNotice(containing: "trigger linux-call-trace: ")
        try watcher.waitForData(containing: "Kernel Offset:", timeout: 30)
        var audit: [String] { ((try? String(contentsOfFile: env.logDir + "/audit.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        try waitUntil(timeout: 5, "two trigger records") { audit.filter { $0.contains(#""event":"trigger""#) }.count >= 2 }
        let fired = audit.filter { $0.contains(#""event":"trigger""#) }
        let records = fired.joined(separator: "\n")
        let fields = auditFields(records)
        #expect(fields.count == 2 && fields[0]["trigger"] == "linux-panic" && fields[1]["trigger"] == "linux-call-trace", "\(fired)")
        let lines = fields.map { $0["line"] ?? "" }
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("[") }, "\(fired)")
        #expect(lines.first?.contains("] Kernel panic - not syncing: sysrq triggered crash") == true, "\(fired)")
        #expect(lines.last?.contains("] Call Trace:") == true, "\(fired)")
        // The whole boot, up to the panic, fired nothing else.
        let before = String(decoding: watcher.data, as: UTF8.self)
        #expect(before.contains("guest: up") && before.contains("Linux version"), "the guest's boot is not in the output")
        #expect(watcher.notices.filter { $0.hasPrefix("trigger ") }.count == 2, "\(watcher.notices)")
        try waitUntil(timeout: 5, "the mark in the console log") {
            String(decoding: env.logContents("guest"), as: UTF8.self).contains("[rtty: trigger linux-panic: [")
        }
    }
}

enum TriggerFiles {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("packaging/etc/triggers.conf").path
}
