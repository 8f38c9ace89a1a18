import Foundation
import Testing
@testable import RTTYCore

/// rttyctl's answer types read what the core writes: audit records and transcript events.
@Suite struct ControlAnswerTests {
    @Test func sessionEndRecordKeepsItsNumbersAndClaim() throws {
        var end = AuditEvent(time: Timestamp(seconds: 0, nanoseconds: 0), kind: .sessionEnd, console: "pbx", session: "s1", uid: 0, user: "root")
        end.details = [("duration", .seconds(3)), ("bytes_in", .number(12)), ("bytes_out", .number(4096)), ("reason", .text("detached"))]
        let record = try JSONDecoder().decode(ControlAnswer.SessionRecord.self, from: try auditLine(end))
        #expect(record.event == "session-end" && record.session == "s1" && record.console == "pbx")
        #expect(record.duration.map { String($0) } == "3.0" && record.bytesIn == 12 && record.bytesOut == 4096 && record.reason == "detached")

        var info = AuditEvent(time: Timestamp(seconds: 0, nanoseconds: 0), kind: .sessionInfo, session: "s1")
        info.details = [("claimed_from", .text("1.2.3.4 22 5.6.7.8 22"))]
        #expect(try JSONDecoder().decode(ControlAnswer.SessionRecord.self, from: try auditLine(info)).claimedFrom == "1.2.3.4 22 5.6.7.8 22")
    }

    @Test func castEventsAreThreeFieldsAndNothingElse() throws {
        var stream = Asciicast.Stream()
        let line = Asciicast.event(seconds: 1.5, kind: "o", quoted: stream.quote(Array("login: \u{1B}[1m".utf8)))
        let event = try JSONDecoder().decode(ControlAnswer.CastEvent.self, from: Data(line.utf8))
        #expect(event.time == 1.5 && event.kind == "o" && event.text == "login: \u{1B}[1m")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ControlAnswer.CastEvent.self, from: Data(#"[1.0, "o", "x", "extra"]"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ControlAnswer.CastEvent.self, from: Data(#"[1.0, "o"]"#.utf8)) }
    }
}
