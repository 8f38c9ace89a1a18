/// Where the daemon serves its Prometheus metrics (`[control] metrics`).
public enum MetricsEndpoint: Equatable, Sendable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    /// A Unix socket, made like the control socket (root:admin group, 0660).
    case unix(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        }
    }
}

extension ConfigParser.Reader {
    /// `audit_syslog` (true, false or a facility name) and `metrics` of `[control]`.
    func readObservation(_ table: TOMLTable, into config: inout Config) throws(ConfigError) {
        if let value = table["audit_syslog"] {
            let names = SyslogFacility.allCases.map(\.name).joined(separator: ", ")
            if let on = value.bool {
                config.auditSyslog = on ? SyslogFacility.default : nil
            } else if let name = value.string, let facility = SyslogFacility(name: name) {
                config.auditSyslog = facility
            } else {
                throw fail("control.audit_syslog", "expected true, false or a facility: \(names)")
            }
        }
        if let value = table["metrics"] {
            if value.string?.hasPrefix("/") == true {
                config.metrics = .unix(path: try absolutePath(value, "control.metrics"))
            } else {
                let (host, port) = try hostAndPort(value, "control.metrics", example: "9470")
                config.metrics = .tcp(host: host, port: port)
            }
        }
    }

    /// One place audit copies go.
    func checkAuditSockets(_ paths: Config.Paths) throws(ConfigError) {
        if paths.syslogSocket != nil && paths.journalSocket != nil {
            throw fail("paths.journal_socket", "set syslog_socket (RFC 5424) or journal_socket (native journal fields), not both")
        }
    }

    /// "HOST:PORT", "[v6]:PORT" or "name:PORT", port 1 to 65535.
    func hostAndPort(_ value: TOMLValue, _ key: TOMLKeyPath, example examplePort: String) throws(ConfigError) -> (String, Int) {
        guard let text = value.string, let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            throw fail(key, "expected \"HOST:PORT\" such as \"127.0.0.1:\(examplePort)\" or \"[::1]:\(examplePort)\" (port 1 to 65535)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let isHostName = !host.isEmpty && !host.contains(":") && host.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
        guard IPNetwork.address(host) != nil || isHostName else {
            throw fail(key, "\"\(host)\" is not an address or host name")
        }
        return (host, port)
    }
}

extension Config.Paths {
    /// The paths whose change restarts every console: all but where audit copies go.
    var ofConsoles: Config.Paths {
        var paths = self
        paths.syslogSocket = nil
        paths.journalSocket = nil
        return paths
    }
}
