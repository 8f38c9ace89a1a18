import Logging
import NIOConcurrencyHelpers
import RTTYCore
import RTTYSystem

/// The daemon's view of the ACL, shared by every console. Decisions are made from the
/// uid the kernel reported for the socket, never from anything the client sent.
final class AccessControl: Sendable {
    /// The list in force, and why the file could not be read if it could not.
    private struct Loaded {
        var list = AccessList()
        var unreadable: String? = "not loaded yet"
    }

    private let state = NIOLockedValueBox(Loaded())
    private let path: String
    private let logger: Logger

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
        load()
    }

    /// Reads the ACL again; a missing or unreadable file means nobody but root gets in.
    func load() {
        var loaded = Loaded()
        do {
            loaded.list = AccessList(parsing: try TextFile.read(path), file: path)
            loaded.unreadable = nil
        } catch {
            logger.warning("cannot read the ACL: \(error); only root (and the daemon's own user) may use consoles")
            loaded.unreadable = "\(error)"
        }
        for problem in loaded.list.problems {
            logger.warning("ACL \(problem)")
        }
        state.withLockedValue { $0 = loaded }
    }

    /// What `rttyctl acl` shows: the list as loaded.
    func listing() -> ControlACL.Listing {
        let loaded = state.withLockedValue { $0 }
        return ControlACL.Listing(path: path, list: loaded.list, unreadable: loaded.unreadable)
    }

    struct Decision {
        let rights: AccessList.Rights
        let user: String
        let why: String
        /// The user's groups (empty for root and the daemon's own user, who need none).
        var groups: [String] = []

        /// Root, the daemon's own user, or a member of `group` (the admin group): admission
        /// keeps slots for them (`Admission`).
        func isAdmin(_ uid: UInt32, group: String) -> Bool {
            AccessControl.isAdmin(uid, groups: groups, adminGroup: group)
        }
    }

    /// Who counts as an admin (rttyctl, admission's reserved slots), decided once: root,
    /// the daemon's own user, or a member of the admin group.
    static func isAdmin(_ uid: UInt32, groups: [String], adminGroup: String) -> Bool {
        uid == 0 || uid == ProcessIdentity.effectiveUID || groups.contains(adminGroup)
    }

    static func isAdmin(uid: UInt32, adminGroup: String) -> Bool {
        isAdmin(uid, groups: Accounts.userName(uid).map(Accounts.groupNames) ?? [], adminGroup: adminGroup)
    }

    /// The core's one access decision, for the uid the kernel reported, with the account
    /// and groups looked up here.
    func decide(uid: UInt32, console: String) -> Decision {
        let name = Accounts.userName(uid)
        // Root and the daemon's own user need no groups (and no account lookup beyond the name).
        let groups = uid == 0 || uid == ProcessIdentity.effectiveUID ? [] : name.map(Accounts.groupNames) ?? []
        let loaded = state.withLockedValue { $0 }
        let policy = AccessDecision.Policy(list: loaded.list, file: path, unreadable: loaded.unreadable, serviceUID: ProcessIdentity.effectiveUID)
        let decision = AccessDecision.decide(.init(uid: uid, name: name, groups: groups), console: console, policy: policy)
        return Decision(rights: decision.rights, user: name ?? "uid\(uid)", why: decision.why, groups: groups)
    }
}
