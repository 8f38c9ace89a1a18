import Foundation

/// Users and groups a test creates (useradd/groupadd, so root only), removed with their
/// processes by `removeAll`.
final class TestAccounts {
    private var users: [String] = []
    private var groups: [String] = []

    func addGroup(_ name: String) throws {
        try SSHRig.must("/usr/sbin/groupadd", [name])
        groups.append(name)
    }

    /// `useradd OPTIONS... NAME`.
    func addUser(_ name: String, _ options: [String]) throws {
        try SSHRig.must("/usr/sbin/useradd", options + [name])
        users.append(name)
    }

    func removeAll() {
        for name in users {
            _ = try? ProcessRun.run("/usr/bin/pkill", ["-KILL", "-u", name], input: "")
            _ = try? ProcessRun.run("/usr/sbin/userdel", ["-f", name], input: "")
        }
        for group in groups {
            _ = try? ProcessRun.run("/usr/sbin/groupdel", [group], input: "")
        }
        users = []
        groups = []
    }
}
