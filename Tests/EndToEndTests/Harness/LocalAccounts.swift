import Foundation
import RTTYSystem

/// Real local users and groups for one test (useradd/groupadd; root only), removed at the
/// end. Names get a random suffix, so tests running at once do not meet.
final class LocalAccounts {
    private let suffix = String(UUID().uuidString.prefix(6)).lowercased()
    private var users: [String] = []
    private var groups: [String] = []

    init() {}

    deinit { removeAll() }

    /// Removes every user (with its processes) and group made so far.
    func removeAll() {
        for name in users {
            _ = try? ProcessRun.run("/usr/bin/pkill", ["-KILL", "-u", name], input: "")
            _ = try? ProcessRun.run("/usr/sbin/userdel", ["-f", name], input: "")
        }
        for name in groups { _ = try? ProcessRun.run("/usr/sbin/groupdel", [name], input: "") }
        users = []
        groups = []
    }

    /// `groupadd NAME`, for a rig that names its groups itself.
    func addGroup(_ name: String) throws {
        try SSHRig.must("/usr/sbin/groupadd", [name])
        groups.append(name)
    }

    /// `useradd OPTIONS... NAME`, for a rig that names its users itself.
    func addUser(_ name: String, _ options: [String]) throws {
        try SSHRig.must("/usr/sbin/useradd", options + [name])
        users.append(name)
    }

    /// A new group; returns its name.
    func group(_ role: String) throws -> String {
        let name = "rt-\(role)-\(suffix)"
        try SSHRig.must("/usr/sbin/groupadd", [name])
        groups.append(name)
        return name
    }

    /// A new user without a home or a password, in `groups`; returns (name, uid).
    func user(_ role: String, groups: [String] = []) throws -> (name: String, uid: UInt32) {
        let name = "rt-\(role)-\(suffix)"
        try SSHRig.must("/usr/sbin/useradd", ["-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", "-p", "*"] + (groups.isEmpty ? [] : ["-G", groups.joined(separator: ",")]) + [name])
        users.append(name)
        guard let uid = Accounts.userID(named: name) else { throw HarnessError("useradd made no user \(name)") }
        return (name, uid)
    }

    /// Runs `program` as that user with exactly the user's groups (setpriv --init-groups).
    static func run(as user: String, _ program: String, _ arguments: [String], input: String = "", timeout: Double = 20) throws -> ProcessRun {
        try ProcessRun.run(setpriv, setprivArguments(user) + [program] + arguments, input: input, timeout: timeout)
    }

    static let setpriv = "/usr/bin/setpriv"

    /// setpriv's arguments that run the program after them as `user`, with its groups.
    static func setprivArguments(_ user: String) -> [String] { ["--reuid=\(user)", "--regid=\(user)", "--init-groups"] }
}
