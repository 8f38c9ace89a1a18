/// What `ssh HOST list --json` answers (rtty-shell(8) LISTING): the consoles the logged-in
/// user may use on that host, each as the host's rttyd reported it to a probe. Encoded by
/// rtty-shell and decoded by `rtty --fleet` with the standard JSON coders, so every string
/// is escaped by the encoder (quotes, backslashes, control characters), never by hand.
public struct ConsoleListing: Codable, Sendable, Equatable {
    /// The format's version; a reader refuses a listing of a higher one.
    public static let currentVersion = 1

    public var version: Int
    /// The user the host logged in (its own name for them).
    public var user: String
    public var consoles: [Entry]

    public init(user: String, consoles: [Entry]) {
        version = Self.currentVersion
        self.user = user
        self.consoles = consoles
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        /// "rw" or "ro", as the daemon decided for this user (the shell's own ACL reading
        /// when the daemon did not answer).
        public var rights: String
        /// The device state ("up", "down", ...), or "no daemon" / "no answer".
        public var state: String
        /// Sessions attached now; nil when the daemon did not say.
        public var clients: Int?
        /// "shared" or "exclusive"; nil when the daemon did not say.
        public var policy: String?
        /// Line settings as the daemon reports them ("115200 8N1 flow=none").
        public var settings: String?

        public init(name: String, rights: String, state: String, clients: Int? = nil, policy: String? = nil, settings: String? = nil) {
            self.name = name
            self.rights = rights
            self.state = state
            self.clients = clients
            self.policy = policy
            self.settings = settings
        }
    }
}
