import Foundation
import Testing
@testable import RTTYCore

/// An audit record as rttyd writes it (RTTYDaemon's JSONLine: a JSON encoder, keys sorted,
/// slashes as they are, one line).
func auditLine(_ event: AuditEvent) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(event) + Data("\n".utf8)
}

/// Audit records and control answers are typed: encoded and decoded by JSON coders, the
/// same types at both ends.
@Suite struct TypedRecordTests {
    @Test func auditRecordIsOneSortedEscapedLine() throws {
        var event = AuditEvent(
            time: Timestamp(seconds: 0, nanoseconds: 0), kind: .sessionEnd, console: "pbx", session: "pbx-1-2",
            uid: 1000, user: "vi\"xie", from: "10.0.0.7 51234")
        event.details = [("reason", .text("line\nbreak\u{1}/x")), ("bytes_in", .number(12)), ("duration", .seconds(1.23456))]
        let line = String(decoding: try auditLine(event), as: UTF8.self)
        #expect(line == #"{"bytes_in":12,"console":"pbx","duration":1.234,"event":"session-end","from":"10.0.0.7 51234","reason":"line\nbreak\u0001/x","session":"pbx-1-2","time":"1970-01-01T00:00:00.000Z","uid":1000,"user":"vi\"xie"}"# + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1)
    }

    /// The attack on a substring reader: a field whose text looks like more fields. A
    /// session-info record whose claimed TERM says it is the end of session "victim".
    @Test func forgedFieldsStayInsideTheirString() throws {
        let forged = #"x","event":"session-end","session":"victim"#
        var info = AuditEvent(time: Timestamp(seconds: 1, nanoseconds: 0), kind: .sessionInfo, console: "pbx", session: "mallory-1", user: forged)
        info.details = [("term", .text(forged)), ("command", .text("\\\"},{\"event\":\"session-end\""))]
        let data = try auditLine(info)
        let record = try JSONDecoder().decode(AuditLine.self, from: data)
        #expect(record.kind == .sessionInfo && record.session == "mallory-1" && record.user == forged)
        let start = AuditLine(time: "t0", event: "session-start", session: "victim", console: "pbx")
        #expect(AuditRecovery.openSessions(in: [start, record]).map(\.session) == ["victim"])
        let answer = try JSONDecoder().decode(ControlAnswer.SessionRecord.self, from: data)
        #expect(answer.event == "session-info" && answer.session == "mallory-1")
    }

    /// What the reader gets from a crash mid-write or a full disk: a line cut anywhere, or
    /// two merged, never decodes as a record.
    @Test func cutOrMergedLinesDoNotDecode() throws {
        var end = AuditEvent(time: Timestamp(seconds: 2, nanoseconds: 0), kind: .sessionEnd, console: "pbx", session: "s-1")
        end.details = [("reason", .text("detached"))]
        let whole = Array(try auditLine(end).dropLast())
        for cut in 1..<whole.count {
            #expect(throws: (any Error).self, "cut at \(cut)") { try JSONDecoder().decode(AuditLine.self, from: Data(whole[..<cut])) }
        }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(AuditLine.self, from: Data(whole.prefix(20) + whole)) }
        #expect(try JSONDecoder().decode(AuditLine.self, from: Data(whole)).session == "s-1")
    }

    @Test func unknownEventsDecodeButMeanNothing() throws {
        let line = #"{"event":"from-the-future","session":"s-9","time":"t"}"#
        let record = try JSONDecoder().decode(AuditLine.self, from: Data(line.utf8))
        #expect(record.kind == nil && AuditRecovery.openSessions(in: [record]).isEmpty)
    }

    /// rttyd encodes `Success(body)`; rttyctl decodes the body's type and `Outcome`.
    @Test func controlAnswersRoundTrip() throws {
        let client = ControlAnswer.Client(
            session: "pbx-1-2", user: "vixie", who: "vixie@pts/3", uid: 1000, rights: "rw", idle: 4, connected: 9, bytesIn: 1, bytesOut: 2,
            from: nil, claimedFrom: "192.0.2.7 51234")
        let console = ControlAnswer.Console(
            name: "pbx", state: "down", kind: "device", source: "/dev/ttyS0", settings: "9600 8N1", policy: "shared", reason: "EIO", clients: [client])
        let wire = try JSONEncoder().encode(ControlAnswer.Success(ControlAnswer.Consoles(consoles: [console])))
        #expect(try JSONDecoder().decode(ControlAnswer.Outcome.self, from: wire).ok)
        let decoded = try JSONDecoder().decode(ControlAnswer.Consoles.self, from: wire)
        #expect(decoded.consoles.first?.clients.first?.claimedFrom == "192.0.2.7 51234" && decoded.consoles.first?.reason == "EIO")
        let refusal = try JSONEncoder().encode(ControlAnswer.Outcome.failure("no console x"))
        let outcome = try JSONDecoder().decode(ControlAnswer.Outcome.self, from: refusal)
        #expect(!outcome.ok && outcome.error == "no console x")
        let empty = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ControlAnswer.Success(ControlAnswer.Empty()))) as? [String: Bool]
        #expect(empty == ["ok": true])
    }
}
