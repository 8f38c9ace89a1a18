import RTTYSystem

/// Which group a console socket gets. As root the configured group must exist (fail
/// closed: no socket rather than one with the wrong group). Unprivileged (tests, the
/// demo) the group is used when this process may chown to it, else the socket keeps the
/// process's own group, which is what an unprivileged daemon can offer anyway.
enum SocketGroup {
    enum Resolution {
        case success(UInt32?)
        case failure(String)
    }

    static func resolve(_ name: String) -> Resolution {
        let gid = Accounts.groupID(named: name)
        if ProcessIdentity.isRoot {
            guard let gid else {
                return .failure("socket group \"\(name)\" does not exist (create it with: groupadd --system \(name))")
            }
            return .success(gid)
        }
        if let gid, gid == ProcessIdentity.effectiveGID || ProcessIdentity.groups().contains(gid) {
            return .success(gid)
        }
        return .success(nil)
    }
}
