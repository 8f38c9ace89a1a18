/// The daemon's configuration (rtty.conf(5)); built only by `ConfigParser`, so every
/// value here has been checked.
public struct Config: Equatable, Sendable {
    public struct Paths: Equatable, Sendable {
        public var socketDir = "/run/rtty"
        public var control = "/run/rtty/control"
        public var logDir = "/var/log/rtty"
        public var auditLog = "/var/log/rtty/audit.jsonl"
        public var sessionDir = "/var/log/rtty/sessions"
        public var access = "/etc/rtty/access"
        public var pidFile = "/run/rtty/rttyd.pid"
        /// Where rtty-shell finds its PAM service file; "" = the system's (/etc/pam.d).
        public var pamServiceDir = ""
        /// Where audit copies go as RFC 5424 (`audit_syslog`); nil: the journal under systemd, else /dev/log.
        public var syslogSocket: String?
        /// Where they go as native journald fields instead; nil: the journal's own socket under systemd.
        public var journalSocket: String?
        public init() {}

        /// Where rtty-shell reports refusals and failed logins for the audit log (a name
        /// no console can have).
        public var reportSocket: String { socketDir + "/.report" }
    }

    public enum WritePolicy: String, Equatable, Sendable, CaseIterable {
        /// Every read-write client types, as with the classic rtty.
        case shared
        /// One writer at a time; the others watch until they take the lock.
        case exclusive
    }

    /// Where a console's bytes come from.
    public enum Source: Equatable, Sendable {
        /// A tty device path: serial port, USB serial, nmdm, pty.
        case device(path: String)
        /// A command run under a pty the daemon allocates.
        case exec(argv: [String], rows: Int, cols: Int)
        /// A Unix stream socket to connect to, e.g. QEMU `-serial unix:PATH,server`.
        case unix(path: String)

        public var kind: String {
            switch self {
            case .device: return "device"
            case .exec: return "exec"
            case .unix: return "unix"
            }
        }

        public var describe: String {
            switch self {
            case .device(let path): return path
            case .exec(let argv, _, _): return argv.joined(separator: " ")
            case .unix(let path): return "unix:" + path
            }
        }
    }

    public struct Console: Equatable, Sendable {
        public var name: String
        public var source: Source
        public var settings: LineSettings
        /// Socket group; nil means the default group.
        public var group: String
        public var replayBytes: Int
        public var timestamps: Bool
        /// Console log on or off.
        public var log: Bool
        /// Rotate the console log when it exceeds this size; 0 = never (external rotation).
        public var logMaxBytes: Int
        /// Rotated generations kept (`name.log.1` ... `name.log.N`).
        public var logKeep: Int
        public var writePolicy: WritePolicy
        /// Bytes queued for one client before it is cut off as too slow.
        public var clientQueueBytes: Int
        public var maxClients: Int
        /// Sessions one user may have on this console (one address, for TCP): one user
        /// cannot fill `maxClients` and lock the others out.
        public var maxClientsPerUser: Int
        /// `[control] admin_group`, copied here by the parser: admission keeps slots for
        /// root and this group (`Admission`), and a console's admission needs only its config.
        public var adminGroup = "rtty-admin"
        /// The console's recording (its output once, each read-write session's input and
        /// span) in the session directory; `rttyctl replay` exports a session as asciicast.
        public var transcript: Bool
        /// The most this console's recording holds (`record_keep_bytes`); the oldest goes
        /// first. A session's input is held to 1/32 of it.
        public var recordKeepBytes: Int
        /// Direct TCP access (off unless configured).
        public var tcp: TCPAccess?
        /// `[[defaults.trigger]]` then this console's own `[[console.NAME.trigger]]`.
        public var triggers: [Trigger]

        public init(name: String, source: Source, defaults: Defaults) {
            self.name = name
            self.source = source
            self.settings = defaults.settings
            self.group = defaults.group
            self.replayBytes = defaults.replayBytes
            self.timestamps = defaults.timestamps
            self.log = defaults.log
            self.logMaxBytes = defaults.logMaxBytes
            self.logKeep = defaults.logKeep
            self.writePolicy = defaults.writePolicy
            self.clientQueueBytes = defaults.clientQueueBytes
            self.maxClients = defaults.maxClients
            self.maxClientsPerUser = defaults.maxClientsPerUser
            self.transcript = defaults.transcript
            self.recordKeepBytes = defaults.recordKeepBytes
            self.triggers = defaults.triggers
        }
    }

    /// A console's TCP port: `tcp = "127.0.0.1:7001"` and the keys that go with it.
    public struct TCPAccess: Equatable, Sendable {
        public enum Mode: String, Equatable, Sendable { case raw, telnet }
        public var host: String
        public var port: Int
        public var mode: Mode
        public var allowRemote: Bool
        /// Networks whose clients are accepted; empty = any that can reach the port.
        public var allow: [IPNetwork]
        public var readOnly: Bool

        public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// Loopback literal addresses and "localhost"; anything else is remote.
        public var isLoopback: Bool { host == "localhost" || (IPNetwork(host)?.isLoopback ?? false) }
    }

    /// Values a console inherits unless it sets its own.
    public struct Defaults: Equatable, Sendable {
        public var settings = LineSettings()
        public var group = "rtty"
        public var replayBytes = 65_536
        public var timestamps = false
        public var log = true
        public var logMaxBytes = 0
        public var logKeep = 5
        public var writePolicy = WritePolicy.shared
        public var clientQueueBytes = 4 << 20
        public var maxClients = 64
        /// 8: several windows and a reconnect in flight for one person, an eighth of the
        /// default 64 slots, so filling a console takes eight users, not one.
        public var maxClientsPerUser = 8
        public var transcript = true
        /// 1 GiB per console.
        public var recordKeepBytes = 1 << 30
        /// Every console's triggers, before its own.
        public var triggers: [Trigger] = []
        public init() {}
    }

    public var paths = Paths()
    public var defaults = Defaults()
    /// Group (besides root) allowed on the control socket, i.e. to use rttyctl.
    public var adminGroup = "rtty-admin"
    /// `[control] audit_syslog`: a copy of each audit record to syslog or the journal.
    public var auditSyslog: SyslogFacility?
    /// `[control] metrics`: the Prometheus endpoint, off unless configured.
    public var metrics: MetricsEndpoint?
    /// Consoles in file order; names are unique and valid (`ConsoleName`).
    public var consoles: [Console] = []

    public init() {}

    public func console(named name: String) -> Console? { consoles.first { $0.name == name } }
}

/// What a console may be called: it becomes a file name under the socket and log dirs, a
/// word of the ACL (where `*?[]!` are glob characters, `,` separates names and `#` starts
/// a comment) and an argument of rttyctl. So a name is made of ASCII letters, digits and
/// `. _ - + @ :` only: every other character is refused rather than matched literally,
/// because a name the ACL cannot write exactly (`lab[1]`, which `lab[1]` as a glob does
/// not even match) or that looks like another (a bidi override, a no-break or zero-width
/// space, a letter in another script or normal form) gets access it was not given.
public enum ConsoleName {
    public static let maxLength = 64
    /// Besides ASCII letters and digits.
    public static let punctuation: Set<Unicode.Scalar> = [".", "_", "-", "+", "@", ":"]

    public static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || punctuation.contains(scalar)
    }

    /// nil when valid, else the reason.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "a console name must not be empty" }
        if name.utf8.count > maxLength { return "console name is longer than \(maxLength) bytes" }
        if name == "." || name == ".." || name.contains("..") { return "console name must not contain '..'" }
        if name.contains("/") { return "console name must not contain '/'" }
        if name.hasPrefix(".") || name.hasPrefix("-") { return "console name must not start with '.' or '-'" }
        if name == "control" { return "'control' is reserved for the control socket" }
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                return "console name must not contain control characters"
            }
            if scalar == " " || scalar == "\t" { return "console name must not contain spaces" }
            if !isAllowed(scalar) {
                let shown = scalar.value > 0x20 && scalar.value < 0x7F ? "'\(scalar)'" : "U+\(String(scalar.value, radix: 16, uppercase: true))"
                return "console name must not contain \(shown): names are ASCII letters, digits and . _ - + @ : (the ACL reads *?[]! as globs, ',' and '#' as separators)"
            }
        }
        return nil
    }
}
