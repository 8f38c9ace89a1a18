import Foundation
import Testing
@testable import RTTYCore

/// The control socket's typed requests: every one survives the trip through the JSON
/// coders both ends use, and what a hostile peer can put in a JSON object is refused whole
/// with an answer naming what was wrong.
@Suite struct ControlRequestTests {
    /// One of each request, with the word form the daemon still takes for it.
    static let requests: [(ControlRequest, String)] = [
        (.status(consoles: []), "status"), (.status(consoles: ["pbx", "lab1"]), "status pbx lab1"),
        (.who(consoles: ["pbx"]), "who pbx"), (.kick(target: "pbx-1-2"), "kick pbx-1-2"),
        (.lineBreak(console: "pbx"), "break pbx"), (.set(console: "pbx", settings: ["baud=9600", "parity=even"]), "set pbx baud=9600 parity=even"),
        (.grant(rights: .ro, subject: "%ops", consoles: ["pbx", "lab*"]), "grant ro %ops pbx lab*"),
        (.revoke(subject: "rtm", consoles: nil), "revoke rtm"), (.revoke(subject: "rtm", consoles: ["pbx"]), "revoke rtm pbx"),
        (.reload, "reload"), (.acl, "acl"), (.aclCheck(user: "rtm", console: "pbx"), "acl-check rtm pbx"),
        (.log(console: "pbx", lines: 20, follow: true), "log pbx 20 follow"), (.log(console: "pbx", lines: 0, follow: false), "log pbx 0"),
        (.sessions(console: nil, user: nil), "sessions"), (.sessions(console: "pbx", user: "rtm"), "sessions console=pbx user=rtm"),
        (.transcript(session: "pbx-1-2"), "transcript pbx-1-2"),
    ]

    static func decode(_ json: String) throws -> ControlRequest { try JSONDecoder().decode(ControlRequest.self, from: Data(json.utf8)) }

    /// What the daemon answers for `json` (RequestDecoding's mapping).
    static func refusal(_ json: String) -> String {
        do {
            return "decoded: \(try decode(json))"
        } catch let error as DecodingError {
            return "request refused: " + ControlRequest.problem(error)
        } catch {
            return "\(error)"
        }
    }

    @Test func everyRequestSurvivesTheRoundTripAndMatchesItsWords() throws {
        #expect(Swift.Set(Self.requests.map(\.0.command)) == Swift.Set(ControlRequest.Command.allCases))
        for (request, words) in Self.requests {
            let line = try JSONEncoder().encode(request)
            #expect(try JSONDecoder().decode(ControlRequest.self, from: line) == request, "\(String(decoding: line, as: UTF8.self))")
            #expect(try ControlRequest(words: ControlWords.split(words)) == request, "\(words)")
            #expect(request.problem == nil)
        }
        #expect(try Self.decode(#"{"request":"grant","rights":"rw","subject":"rtm","consoles":["pbx"]}"#) == .grant(rights: .rw, subject: "rtm", consoles: ["pbx"]))
    }

    /// What the word form could not carry, typed: a name with a space is one value now, and
    /// still refused whole (it names no user, group or console).
    @Test(arguments: [
        (#"{"request":"grant","rights":"ro","subject":"rtm guests","consoles":["pbx"]}"#, "holds a space"),
        (#"{"request":"grant","rights":"ro","subject":"rtm","consoles":["pbx\u001b[2J"]}"#, "control or invisible character"),
        (#"{"request":"kick","target":""}"#, "an empty argument"),
        (#"{"request":"set","console":"pbx","settings":["baud=9600 parity=odd"]}"#, "holds a space"),
        (#"{"request":"sessions","user":"rtm\u200b"}"#, "control or invisible character"),
        (#"{"request":"kick","target":5}"#, "the field target must be a string"),
        (#"{"request":"log","console":"pbx","lines":"20"}"#, "the field lines must be a whole number"),
        (#"{"request":"log","console":"pbx","lines":1e300}"#, "does not decode"),
        (#"{"request":"log","console":"pbx","lines":100001}"#, "LINES from 0 to 100000"),
        (#"{"request":"log","console":"pbx","follow":"yes"}"#, "the field follow must be true or false"),
        (#"{"request":"status","consoles":"pbx"}"#, "the field consoles must be a list of strings"),
        (#"{"request":"status","consoles":["pbx",7]}"#, "the field consoles[1] must be a string"),
        (#"{"request":"kick","target":null}"#, "the field target must be a string, not null"),
        (#"{"request":"rm -rf"}"#, "unknown request rm -rf"),
        (#"{"request":"status\u001b]0;x\u0007"}"#, #"unknown request status\x1b]0;x\x07"#),
        (#"{"consoles":[]}"#, "the field request is missing"),
        (#"{"request":"kick"}"#, "kick needs the field target"),
        (#"{"request":"kick","target":"rtm","consoles":["pbx"]}"#, "kick takes no field consoles (it takes target)"),
        (#"{"request":"reload","force":true}"#, "reload takes no field force (it takes none)"),
        (#"{"request":"grant","rights":"none","subject":"rtm","consoles":["pbx"]}"#, "rights is rw or ro, not none"),
        (#"{"request":"grant","rights":"rw","subject":"rtm","consoles":[]}"#, "usage: grant"),
        (#"{"request":"revoke","subject":"rtm","consoles":[]}"#, "leave consoles out for every console"),
        (#"["status"]"#, "a request is one JSON object"),
        (#"{"request":"status""#, "not valid JSON"),
    ])
    func hostileRequestIsRefusedNamingTheProblem(json: String, expected: String) {
        let answer = Self.refusal(json)
        #expect(answer.hasPrefix("request refused: ") && answer.contains(expected), "\(json) -> \(answer)")
    }

    /// The word form keeps its own rules and its usage texts.
    @Test func wordFormRefusesWhatItDidBefore() {
        for (words, expected) in [
            (["log", "pbx", "x"], "usage: log CONSOLE LINES [follow]"), (["grant", "all", "rtm", "pbx"], "usage: grant"),
            (["reload", "now"], "usage: reload"), (["frobnicate"], "unknown request frobnicate"),
            (["sessions", "host=x"], "sessions takes console=NAME and user=NAME, not host=x"), (["sessions", "user="], "not user="),
        ] {
            do {
                let request = try ControlRequest(words: words)
                Issue.record("\(words) was taken: \(request)")
            } catch {
                #expect(error.description.contains(expected), "\(words) -> \(error)")
            }
        }
    }

    @Test func shellReportRoundTripsAndRefusesUnknownEvents() throws {
        let report = ShellReportRequest(event: .loginFailed, sshConnection: "192.0.2.1 4000 192.0.2.2 22", command: "pbx\tx", message: "bad password")
        #expect(try JSONDecoder().decode(ShellReportRequest.self, from: JSONEncoder().encode(report)) == report)
        #expect(try ShellReportRequest(tabLine: "login-failed\t192.0.2.1 4000 192.0.2.2 22\tpbx\tbad password").command == "pbx")
        #expect(throws: ControlWords.Failure("unknown report logout; rtty-shell sends refused or login-failed")) {
            try JSONDecoder().decode(ShellReportRequest.self, from: Data(#"{"event":"logout","message":"x"}"#.utf8))
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ShellReportRequest.self, from: Data(#"{"event":"refused"}"#.utf8)) }
    }
}
