import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The control socket's JSON requests from a peer that is not rttyctl: what does not decode
/// is refused with the reason, nothing of it is carried out, and the daemon goes on.
@Suite struct TypedRequestTests {
    typealias Rig = ControlArgumentTests.Rig

    static func answers(_ text: String) -> [ControlAnswer.Outcome?] {
        text.split(separator: "\n").map { try? JSONDecoder().decode(ControlAnswer.Outcome.self, from: Data($0.utf8)) }
    }

    @Test(.enabled(if: AccessTests.needsRoot), arguments: [
        (#"{"request":"grant","rights":"ro","subject":"RTM guests","consoles":["pbx"]}"#, "holds a space"),
        (#"{"request":"grant","rights":"rw","subject":"RTM","consoles":["pbx"],"extra":1}"#, "grant takes no field extra"),
        (#"{"request":"grant","rights":"rw","subject":"RTM","consoles":"pbx"}"#, "the field consoles must be a list of strings"),
        (#"{"request":"grant","rights":"rw","subject":"RTM","consoles":["pbx\u0000"]}"#, "control or invisible character"),
        (#"{"request":"grant!","rights":"rw","subject":"RTM","consoles":["pbx"]}"#, "unknown request grant!"),
        (#"{"request":"grant","rights":"rw","subject":"RTM","consoles":["pbx"]"#, "does not decode"),
    ])
    func hostileJSONRequestIsRefusedAndNothingChanges(json: String, expected: String) throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let answer = try ControlClient.ask(rig.env.socketDir + "/control", json.replacingOccurrences(of: "RTM", with: rig.rtm))
        let outcomes = Self.answers(answer)
        #expect(outcomes.count == 1 && outcomes.first??.ok == false, "\(answer)")
        #expect(outcomes.first??.error?.hasPrefix("request refused: ") == true && answer.contains(expected), "\(answer)")
        #expect(rig.acl == "# the ACL\n", "the ACL was changed:\n\(rig.acl)")
        #expect(controlOutcome(try ControlClient.ask(rig.env.socketDir + "/control", #"{"request":"status"}"#))?.ok == true)
    }

    /// A request trickled in pieces is one request; a second one in the same write is not
    /// read (one request per connection), so it is never carried out.
    @Test(.enabled(if: AccessTests.needsRoot)) func splitAndDoubledRequests() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let control = rig.env.socketDir + "/control"
        let split = try ControlClient(path: control)
        defer { split.close() }
        let grant = #"{"request":"grant","rights":"ro","subject":"\#(rig.rtm)","consoles":["pbx"]}"#
        for piece in [grant.prefix(9), grant.dropFirst(9).prefix(30), grant.dropFirst(39)] {
            #expect(split.write(String(piece)))
            usleep(100_000)
        }
        #expect(!Poll.readable(split.fd, timeoutMilliseconds: 0), "answered before the newline")
        split.write("\n")
        let answer = try split.readAll()
        #expect(Self.answers(answer).map { $0?.ok } == [true], "\(answer)")
        #expect(rig.acl.contains(rig.rtm), "\(rig.acl)")

        let revoke = #"{"request":"revoke","subject":"\#(rig.rtm)"}"#
        let doubled = try ControlClient.ask(control, #"{"request":"acl"}"# + "\n" + revoke)
        #expect(Self.answers(doubled).count == 1, "\(doubled)")
        #expect(doubled.contains(#""rules":"#), "\(doubled)")
        #expect(rig.acl.contains(rig.rtm), "the second request was carried out:\n\(rig.acl)")
    }

    /// An argument longer than a request may be: refused at the bound, before decoding.
    @Test(.enabled(if: AccessTests.needsRoot)) func hugeArgumentIsRefusedAtTheBound() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try Rig()
        let huge = #"{"request":"kick","target":""# + String(repeating: "a", count: 10_000) + #""}"#
        let answer = try ControlClient.ask(rig.env.socketDir + "/control", huge)
        #expect(Self.answers(answer).count == 1 && answer.contains("request longer than \(RequestLine.maxBytes) bytes"), "\(answer.prefix(300))")
        #expect(controlOutcome(try ControlClient.ask(rig.env.socketDir + "/control", "status"))?.ok == true)
    }

    /// rtty-shell's report as it sends it now, and one with a field of the wrong type.
    @Test func jsonShellReportIsRecordedAndAWrongOneRefused() throws {
        let rig = try PtyConsoleRig()
        let report = rig.env.socketDir + "/.report"
        try waitUntil(timeout: 10, "the report socket") { Files.isSocket(report) }
        let wrong = try ControlClient.ask(report, #"{"event":"refused","message":["not","text"]}"#)
        #expect(controlOutcome(wrong)?.error == "request refused: the field message must be a string", "\(wrong)")
        let json = #"{"event":"login-failed","ssh_connection":"192.0.2.1 40000 192.0.2.2 22","command":"pbx\tx\u001b[2J","message":"bad password"}"#
        #expect(controlOutcome(try ControlClient.ask(report, json))?.ok == true)
        let record = try #require(SessionAuditTests.records(rig.env, "login-failed").first)
        #expect(record.contains(#""claimed_from":"192.0.2.1 40000""#) && record.contains(#""reason":"bad password""#), "\(record)")
        #expect(record.contains(#""command":"pbx\\x09x\\x1b[2J""#), "\(record)")
        #expect(SessionAuditTests.records(rig.env, "refused").isEmpty)
    }
}
