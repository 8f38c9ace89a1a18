/// Who may use a console, decided here and nowhere else: by the daemon for every
/// connection and for `rttyctl acl check`, and by rtty-shell for its menu. Root may use
/// every console, and so may the daemon's own user (it could open the devices anyway);
/// anyone else gets what the first ACL line naming them and the console says, nothing
/// without one. Membership of `admin_group` gives rttyctl and admission's reserved slots,
/// never rights on a console: an admin who should use consoles is named in the ACL.
public struct AccessDecision: Equatable, Sendable {
    public var rights: AccessList.Rights
    /// Why, for a person: "root", "FILE line N", ...
    public var why: String

    /// Who asks, as the kernel (uid) and the account database (name, groups) say; never
    /// anything the client sent.
    public struct Requester: Equatable, Sendable {
        public var uid: UInt32
        /// nil when the uid has no account.
        public var name: String?
        public var groups: [String]

        public init(uid: UInt32, name: String?, groups: [String]) {
            self.uid = uid
            self.name = name
            self.groups = groups
        }
    }

    /// The ACL in force and where it came from.
    public struct Policy: Sendable {
        public var list: AccessList
        /// The ACL's path, named in every `why`.
        public var file: String
        /// Why the file could not be read at its last load (then `list` is empty).
        public var unreadable: String?
        /// The daemon's own uid; nil where it is not known (rtty-shell).
        public var serviceUID: UInt32?

        public init(list: AccessList, file: String, unreadable: String? = nil, serviceUID: UInt32? = nil) {
            self.list = list
            self.file = file
            self.unreadable = unreadable
            self.serviceUID = serviceUID
        }
    }

    public init(rights: AccessList.Rights, why: String) {
        self.rights = rights
        self.why = why
    }

    public static func decide(_ requester: Requester, console: String, policy: Policy) -> AccessDecision {
        if requester.uid == 0 { return AccessDecision(rights: .rw, why: "root") }
        if requester.uid == policy.serviceUID { return AccessDecision(rights: .rw, why: "the daemon's own user") }
        guard let name = requester.name else {
            return AccessDecision(rights: .none, why: "uid \(requester.uid) has no user name")
        }
        let (rights, line) = policy.list.decide(user: name, groups: requester.groups, console: console)
        let why =
            line.map { "\(policy.file) line \($0)" }
            ?? policy.unreadable.map { "\(policy.file) cannot be read (\($0)): nobody but root gets in" }
            ?? "no line of \(policy.file) names this user and console"
        return AccessDecision(rights: rights, why: why)
    }
}
