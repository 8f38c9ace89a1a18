/// Answers to the control requests `acl` and `acl-check` (docs/PROTOCOL.md, "Control
/// socket"): the daemon's own view of the ACL, as it loaded it and as it decides, so that
/// admins who may not read the file (root:rtty 0640) see what is in force.
public enum ControlACL {
    /// `acl`: the rules in the order they are tried, and the file's problems.
    public struct Listing: Codable, Equatable, Sendable {
        public struct Rule: Codable, Equatable, Sendable {
            public var line: Int
            /// A user name, `%group`, or `*`.
            public var who: String
            public var consoles: [String]
            public var rights: String
        }

        public var ok = true
        public var path: String
        /// Why the daemon could not read the file at its last load; then nobody but root
        /// (and the daemon's own user) gets in.
        public var unreadable: String?
        public var rules: [Rule]
        /// `FILE:LINE: message`, one per bad line.
        public var problems: [String]

        public init(path: String, list: AccessList, unreadable: String?) {
            self.path = path
            self.unreadable = unreadable
            rules = list.rules.map { Rule(line: $0.line, who: $0.subject.word, consoles: $0.consoles, rights: $0.rights.rawValue) }
            problems = list.problems.map(\.description)
        }
    }

    /// `acl-check USER CONSOLE`: the daemon's decision for that user, and why.
    public struct Check: Codable, Equatable, Sendable {
        public var ok = true
        public var user: String
        public var uid: UInt32
        public var console: String
        public var rights: String
        public var why: String

        public init(user: String, uid: UInt32, console: String, rights: AccessList.Rights, why: String) {
            self.user = user
            self.uid = uid
            self.console = console
            self.rights = rights.rawValue
            self.why = why
        }
    }
}

extension AccessList.Subject {
    /// As written in the ACL's first field.
    public var word: String {
        switch self {
        case .user(let name): return name
        case .group(let name): return "%" + name
        case .everyone: return "*"
        }
    }
}
