import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// audit.jsonl as a crash, a full disk or a hostile field leaves it, read back by rttyd's
/// decoder (`rttyctl sessions`, and the start-up recovery of sessions left open).
@Suite struct AuditReadBackTests {
    /// The log ends inside a record (rttyd killed mid-write, power lost), after a line far
    /// over the reader's 64 KiB limit and a record whose fields hold quoted text that looks
    /// like other fields. The next rttyd's records must not be glued onto the cut line:
    /// before, the first of them (this session's start) merged with it and was lost, so
    /// `rttyctl sessions` showed an end without a start.
    @Test func cutLastLineHugeLineAndForgedFieldsAreSkippedOrKept() throws {
        let env = try TestEnvironment()
        try FileManager.default.createDirectory(atPath: env.logDir, withIntermediateDirectories: true)
        let forged = #"{"event":"session-info","session":"m-1","term":"x\",\"event\":\"session-end\",\"session\":\"victim-1","time":"t"}"#
        let huge = #"{"event":"session-start","session":"huge-1","user":""# + String(repeating: "a", count: 100_000) + #"","time":"t"}"#
        let lines = [
            #"{"console":"pbx","event":"session-start","session":"victim-1","time":"2026-01-01T00:00:00.000Z","uid":0,"user":"root"}"#,
            forged, huge,
            #"{"event":"session-end","session":"victim-1","reason":"detach"#,  // cut: no newline
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: env.logDir + "/audit.jsonl"))
        try env.writeConfig("[console.pbx]\nexec = [\"/bin/cat\"]\n")
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(["pbx"])
        let client = try ProtocolClient(socket: env.socket("pbx"))
        try client.identify("tester@pts/7")
        try client.waitForNotice(containing: "@pts/7 connected")
        client.disconnect()
        let audit = env.logDir + "/audit.jsonl"
        try waitUntil(timeout: 5, "a session-end record of this session") {
            auditFields((try? String(contentsOfFile: audit, encoding: .utf8)) ?? "").contains { $0["event"] == "session-end" && $0["session"]?.hasPrefix("pbx-") == true }
        }
        let run = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["sessions", "--json", "--control", env.socketDir + "/control"], input: "")
        let answer = try JSONDecoder().decode(ControlAnswer.SessionRecords.self, from: Data(run.stdout.utf8))
        let ours = answer.records.filter { $0.session?.hasPrefix("pbx-") == true }
        #expect(ours.map(\.event).contains("session-start") && ours.map(\.event).contains("session-end"), "\(run.stdout.prefix(2000))")
        // The victim's start was left open by the cut end: recovery closed it, once.
        let victim = answer.records.filter { $0.session == "victim-1" }.map(\.event)
        #expect(victim == ["session-start", "session-end"], "\(victim)")
        // The forged info record is one record of session m-1, ending nobody.
        #expect(answer.records.contains { $0.session == "m-1" && $0.event == "session-info" })
        #expect(!answer.records.contains { $0.session == "huge-1" })
        #expect(answer.skipped == 2, "the huge line and the cut one: \(answer.skipped ?? -1)")
    }
}
