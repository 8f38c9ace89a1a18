/// The syslog facility audit records are sent with (`[control] audit_syslog`).
public enum SyslogFacility: Int, Sendable, CaseIterable {
    case user = 1, daemon = 3, auth = 4, authpriv = 10
    case local0 = 16, local1, local2, local3, local4, local5, local6, local7

    /// `audit_syslog = true`: authpriv, because the records say who logged in from where,
    /// which the system keeps out of world-readable logs (Debian's rsyslog writes authpriv
    /// to /var/log/auth.log, 0640 root:adm; journald keeps it from unprivileged readers).
    public static let `default` = SyslogFacility.authpriv

    public var name: String { "\(self)" }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }
}

/// One audit record as a syslog message (RFC 5424 with structured data) or as native
/// journald fields. The JSON-lines file stays the record of authority; these are copies
/// for collectors, so an over-long value is cut (marked "...") rather than sent whole.
public enum SyslogFormat {
    /// SD-ID of the record's fields. 32473 is the private enterprise number IANA reserves
    /// for documentation (RFC 5612): a placeholder until rtty has a number of its own.
    public static let structuredDataID = "rtty@32473"
    public static let appName = "rttyd"
    /// Longest value (bytes of UTF-8) sent for one field.
    public static let maxValueBytes = 1024

    /// Severity: refusals, losses and trigger matches (a panic, an oops) are warnings,
    /// changes and trigger commands notices, sessions information.
    public static func severity(_ kind: AuditEvent.Kind) -> Int {
        switch kind {
        case .denied, .refused, .loginFailed, .deviceLost, .trigger: return 4
        case .kick, .grant, .revoke, .reload, .settings, .breakSent, .deviceBack, .triggerCommand: return 5
        case .sessionStart, .sessionEnd, .sessionInfo: return 6
        }
    }

    /// The record's fields in the file's order, as text: console, session, uid, user,
    /// from, then the details.
    public static func fields(_ event: AuditEvent) -> [(String, String)] {
        var fields: [(String, String)] = []
        if let console = event.console { fields.append(("console", console)) }
        if let session = event.session { fields.append(("session", session)) }
        if let uid = event.uid { fields.append(("uid", String(uid))) }
        if let user = event.user { fields.append(("user", user)) }
        if let from = event.from { fields.append(("from", from)) }
        for (key, value) in event.details {
            switch value {
            case .text(let text): fields.append((key, text))
            case .number(let n): fields.append((key, String(n)))
            case .seconds(let s): fields.append((key, String(Double(Int(s * 1000)) / 1000)))
            }
        }
        return fields
    }

    /// `<PRI>1 TIME HOST rttyd PID KIND [rtty@32473 console="..." ...] SUMMARY`, one
    /// datagram. Every value is made printable (TerminalText) and `"`, `\` and `]` are
    /// escaped with a backslash (RFC 5424 section 6.3.3).
    public static func rfc5424(_ event: AuditEvent, facility: SyslogFacility, hostname: String, pid: Int32) -> [UInt8] {
        let priority = facility.rawValue * 8 + severity(event.kind)
        var data = "[" + structuredDataID
        for (key, value) in fields(event) {
            data += " " + name(key) + "=\"" + paramValue(value) + "\""
        }
        data += "]"
        let header = "<\(priority)>1 \(event.time.iso8601) \(headerField(hostname, max: 255)) \(appName) \(pid) \(headerField(event.kind.rawValue, max: 32))"
        return Array((header + " " + data + " " + summary(event)).utf8)
    }

    /// The human line (MESSAGE): what happened, on which console, to whom.
    public static func summary(_ event: AuditEvent) -> String {
        var text = event.kind.rawValue
        if let console = event.console { text += " console " + printable(console) }
        if let user = event.user { text += " user " + printable(user) }
        if let session = event.session { text += " session " + printable(session) }
        if case .text(let reason)? = event.details.first(where: { $0.0 == "reason" })?.1 { text += ": " + printable(reason) }
        return text
    }

    /// Native journald fields (systemd.journal-fields(7)): MESSAGE, PRIORITY,
    /// SYSLOG_FACILITY, SYSLOG_IDENTIFIER, then RTTY_EVENT and RTTY_<FIELD> for each field.
    public static func journalFields(_ event: AuditEvent, facility: SyslogFacility) -> [(String, String)] {
        var out: [(String, String)] = [
            ("MESSAGE", summary(event)), ("PRIORITY", String(severity(event.kind))), ("SYSLOG_FACILITY", String(facility.rawValue)),
            ("SYSLOG_IDENTIFIER", appName), ("RTTY_EVENT", event.kind.rawValue), ("RTTY_TIME", event.time.iso8601),
        ]
        for (key, value) in fields(event) { out.append(("RTTY_" + journalName(key), printable(value))) }
        return out
    }

    /// A value made printable and cut to `maxValueBytes`.
    static func printable(_ text: String) -> String {
        let shown = TerminalText.escaped(text)
        guard shown.utf8.count > maxValueBytes else { return shown }
        var cut = ""
        for scalar in shown.unicodeScalars {
            if cut.utf8.count + String(scalar).utf8.count > maxValueBytes - 3 { break }
            cut.unicodeScalars.append(scalar)
        }
        return cut + "..."
    }

    static func paramValue(_ text: String) -> String {
        var out = ""
        for scalar in printable(text).unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar == "]" { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// SD-NAME: 1 to 32 printable ASCII characters except `=`, space, `]` and `"`.
    static func name(_ key: String) -> String {
        let kept = key.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && !"=]\"".unicodeScalars.contains($0) }
        let text = String(String.UnicodeScalarView(kept.prefix(32)))
        return text.isEmpty ? "field" : text
    }

    /// A header field: printable ASCII without spaces, or "-" (the NILVALUE) when empty.
    static func headerField(_ text: String, max: Int) -> String {
        let kept = text.unicodeScalars.map { $0.value > 0x20 && $0.value < 0x7F ? Character($0) : "_" }
        return kept.isEmpty ? "-" : String(kept.prefix(max))
    }

    /// Journal field names: uppercase letters, digits and `_`, not starting with `_`.
    static func journalName(_ key: String) -> String {
        String(key.uppercased().unicodeScalars.map { ("A"..."Z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" })
    }

    /// The journal's native datagram: `NAME=value\n` per field. Values come from
    /// `journalFields`, printable, so none holds a newline (which would need the
    /// protocol's length-prefixed form).
    public static func journalDatagram(_ fields: [(String, String)]) -> [UInt8] {
        Array(fields.map { $0.0 + "=" + $0.1 + "\n" }.joined().utf8)
    }
}
