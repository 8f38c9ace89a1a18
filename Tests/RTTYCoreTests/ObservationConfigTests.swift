import RTTYCore
import Testing

@Suite struct ObservationConfigTests {
    static func parse(_ text: String) throws(ConfigError) -> Config { try ConfigParser.parse(text, file: "rtty.conf") }

    @Test func auditSyslogAndMetricsAreReadAndOffByDefault() throws {
        let none = try Self.parse("")
        #expect(none.auditSyslog == nil && none.metrics == nil && none.paths.syslogSocket == nil)
        #expect(try Self.parse("[control]\naudit_syslog = true").auditSyslog == .authpriv)
        #expect(try Self.parse("[control]\naudit_syslog = false").auditSyslog == nil)
        #expect(try Self.parse("[control]\naudit_syslog = \"local3\"").auditSyslog == .local3)
        #expect(try Self.parse("[control]\nmetrics = \"127.0.0.1:9470\"").metrics == .tcp(host: "127.0.0.1", port: 9470))
        #expect(try Self.parse("[control]\nmetrics = \"[::1]:9470\"").metrics == .tcp(host: "::1", port: 9470))
        #expect(try Self.parse("[control]\nmetrics = \"/run/rtty/metrics\"").metrics == .unix(path: "/run/rtty/metrics"))
        #expect(try Self.parse("[paths]\nsyslog_socket = \"/tmp/log\"").paths.syslogSocket == "/tmp/log")
    }

    @Test(arguments: [
        ("[control]\naudit_syslog = \"kern\"", "rtty.conf:2: control.audit_syslog: expected true, false or a facility: user, daemon, auth, authpriv, local0"),
        ("[control]\naudit_syslog = 3", "rtty.conf:2: control.audit_syslog: expected true, false or a facility"),
        ("[control]\nmetrics = \"9470\"", "rtty.conf:2: control.metrics: expected \"HOST:PORT\" such as \"127.0.0.1:9470\""),
        ("[control]\nmetrics = \"host:0\"", "rtty.conf:2: control.metrics: expected \"HOST:PORT\""),
        ("[control]\nmetrics = \"a b:9470\"", "rtty.conf:2: control.metrics: \"a b\" is not an address or host name"),
        ("[control]\nmetric = \"127.0.0.1:9470\"", "rtty.conf:2: control.metric: unknown key; expected one of admin_group, audit_syslog, metrics"),
        ("[paths]\nsyslog_socket = \"log\"", "rtty.conf:2: paths.syslog_socket: expected an absolute path"),
        ("[paths]\nsyslog_socket = \"/a\"\njournal_socket = \"/b\"\n[control]\naudit_syslog = true", "rtty.conf:3: paths.journal_socket: set syslog_socket (RFC 5424) or journal_socket"),
    ])
    func badValuesAreNamed(text: String, expected: String) {
        #expect(throws: ConfigError.self) { try Self.parse(text) }
        do {
            _ = try Self.parse(text)
        } catch {
            #expect(error.description.hasPrefix(expected), "\(error.description)")
        }
    }

    /// Where audit copies go is no console path: changing it restarts no console.
    @Test func changingTheSyslogSocketRestartsNoConsole() throws {
        let old = try Self.parse("[console.pbx]\ndevice = \"/dev/ttyS0\"")
        let new = try Self.parse("[paths]\nsyslog_socket = \"/tmp/log\"\n[control]\naudit_syslog = true\n[console.pbx]\ndevice = \"/dev/ttyS0\"")
        #expect(!ReloadPlan(old: old, new: new).pathsChanged)
    }
}
