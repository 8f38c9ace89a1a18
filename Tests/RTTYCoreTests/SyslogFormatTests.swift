import RTTYCore
import Testing

@Suite struct SyslogFormatTests {
    static func event(user: String) -> AuditEvent {
        var event = AuditEvent(time: Timestamp(seconds: 1_764_590_400, nanoseconds: 5_000_000), kind: .denied, console: "pbx", session: "pbx-1-2", uid: 1000, user: user)
        event.details = [("reason", .text("no line\nfor \u{1B}[2Jyou")), ("bytes_in", .number(7)), ("duration", .seconds(1.23456))]
        return event
    }

    @Test func headerAndStructuredDataFollowRFC5424() {
        let line = String(decoding: SyslogFormat.rfc5424(Self.event(user: "vixie"), facility: .authpriv, hostname: "host one", pid: 42), as: UTF8.self)
        #expect(
            line
                == #"<84>1 2025-12-01T12:00:00.005Z host_one rttyd 42 denied [rtty@32473 console="pbx" session="pbx-1-2" uid="1000" user="vixie" reason="no line\\x0afor \\x1b[2Jyou" bytes_in="7" duration="1.234"] denied console pbx user vixie session pbx-1-2: no line\x0afor \x1b[2Jyou"#)
    }

    /// `"`, `\` and `]` are escaped inside a value; control bytes, bidi overrides and
    /// newlines become visible text, so no value can end the element or forge another.
    @Test func hostileValuesStayInsideTheirParameter() {
        let hostile = "a\"] [rtty@32473 uid=\"0\"]\\\u{1B}]0;t\u{07}\u{202E}\n"
        let line = String(decoding: SyslogFormat.rfc5424(Self.event(user: hostile), facility: .local3, hostname: "h", pid: 1), as: UTF8.self)
        #expect(line.contains(#" user="a\"\] [rtty@32473 uid=\"0\"\]\\\\x1b\]0;t\\x07\\u{202e}\\x0a" "#), "\(line)")
        #expect(line.hasPrefix("<156>1 "))
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{202E}" })
    }

    @Test func journalFieldsAreNamedAndPrintable() {
        let fields = SyslogFormat.journalFields(Self.event(user: "v\ni"), facility: .auth)
        let datagram = String(decoding: SyslogFormat.journalDatagram(fields), as: UTF8.self)
        #expect(datagram.contains("\nPRIORITY=4\nSYSLOG_FACILITY=4\nSYSLOG_IDENTIFIER=rttyd\nRTTY_EVENT=denied\n"))
        #expect(datagram.contains("\nRTTY_CONSOLE=pbx\n") && datagram.contains("\nRTTY_USER=v\\x0ai\n") && datagram.contains("\nRTTY_BYTES_IN=7\n"))
        #expect(datagram.split(separator: "\n").allSatisfy { $0.contains("=") })
    }

    @Test func longValuesAreCut() {
        let line = String(decoding: SyslogFormat.rfc5424(Self.event(user: String(repeating: "x", count: 5000)), facility: .auth, hostname: "h", pid: 1), as: UTF8.self)
        #expect(line.contains(" user=\"" + String(repeating: "x", count: SyslogFormat.maxValueBytes - 3) + "...\" "))
    }

    @Test func facilitiesByName() {
        #expect(SyslogFacility(name: "local3")?.rawValue == 19)
        #expect(SyslogFacility(name: "authpriv")?.rawValue == 10)
        #expect(SyslogFacility(name: "kern") == nil)
    }
}
