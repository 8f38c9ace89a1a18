import Foundation
import RTTYSystem
import Testing

/// TrustedFile, what a set-id rtty-shell reads its config and ACL with: each refusal names
/// the component and the check. Root-owned files in a directory only root can write need
/// root to make (CI is root).
@Suite struct TrustedFileTests {
    static var enabled: Bool { getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true" }

    final class Tree {
        let root = "/var/lib/rtty-trusted-\(UUID().uuidString.prefix(8))"
        init() throws {
            try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
            chmod(root, 0o755)
            chmod(root + "/etc", 0o755)
            try write("etc/good", "root's words\n")
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }

        func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws {
            try text.write(toFile: root + "/" + name, atomically: true, encoding: .utf8)
            chmod(root + "/" + name, mode)
        }

        func refusal(_ path: String) -> String {
            do {
                _ = try TrustedFile.read(path)
                return "read"
            } catch {
                return error.description
            }
        }
    }

    @Test(.enabled(if: enabled)) func readsRootsFileInRootsDirectories() throws {
        let tree = try Tree()
        #expect(try TrustedFile.read(tree.root + "/etc/good") == "root's words\n")
    }

    @Test(.enabled(if: enabled)) func refusesEachWeakLinkAndSaysWhich() throws {
        let tree = try Tree()
        let etc = tree.root + "/etc"
        symlink(etc + "/good", etc + "/link")
        symlink(etc, tree.root + "/dirlink")
        mkfifo(etc + "/fifo", 0o644)
        try tree.write("etc/loose", "x", mode: 0o664)
        try tree.write("etc/theirs", "x")
        _ = chown(etc + "/theirs", 65534, 65534)
        #expect(tree.refusal(etc + "/link") == "\(etc)/link: is a symbolic link (not followed)")
        #expect(tree.refusal(tree.root + "/dirlink/good") == "\(tree.root)/dirlink/good: \(tree.root)/dirlink is a symbolic link (not followed)")
        #expect(tree.refusal(etc + "/fifo") == "\(etc)/fifo: is not a regular file")
        #expect(tree.refusal(etc + "/loose") == "\(etc)/loose: is writable by its group (mode 0664)")
        #expect(tree.refusal(etc + "/theirs") == "\(etc)/theirs: is owned by uid 65534, not root")
        #expect(tree.refusal(etc + "/../etc/good") == "\(etc)/../etc/good: not a plain absolute path")
        #expect(tree.refusal("etc/good") == "etc/good: not a plain absolute path")
        #expect(tree.refusal(etc + "/missing").hasPrefix("\(etc)/missing: cannot be opened: "))
        chmod(etc, 0o1777)
        #expect(tree.refusal(etc + "/good") == "\(etc)/good: \(etc) is writable by others (mode 01777)")
        // Sticky /tmp is no exception.
        #expect(tree.refusal("/tmp/anything").hasPrefix("/tmp/anything: /tmp is writable by others"))
    }
}
