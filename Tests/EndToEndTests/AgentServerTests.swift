import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// `rtty mcp` driven over stdio by a JSON-RPC 2.0 client (python3, below), run by real
/// local users against the exec login console and a pty console of `ScriptTests.Rig`.
@Suite struct AgentServerTests {
    /// Sends each [method, params] step of stdin's JSON list to the server, one at a time,
    /// and prints the answers as one JSON list (the server's exit status last). A string
    /// argument "@KEY" becomes the previous tool result's structuredContent KEY, as an
    /// agent carries an offset from one call to the next.
    static let driver = #"""
        import json, subprocess, sys
        steps = json.load(sys.stdin)
        server = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        answers, last, next_id = [], {}, 1
        for method, params in steps:
            for k, v in ((params or {}).get('arguments') or {}).items():
                if isinstance(v, str) and v.startswith('@'):
                    params['arguments'][k] = last[v[1:]]
            message = {'jsonrpc': '2.0', 'method': method}
            if params is not None:
                message['params'] = params
            if not method.startswith('notifications/'):
                message['id'] = next_id
                next_id += 1
            server.stdin.write((json.dumps(message) + '\n').encode())
            server.stdin.flush()
            if 'id' not in message:
                continue
            answer = json.loads(server.stdout.readline())
            assert answer.get('id') == message['id'] and answer.get('jsonrpc') == '2.0', answer
            last = (answer.get('result') or {}).get('structuredContent') or {}
            answers.append(answer)
        server.stdin.close()
        answers.append({'exit': server.wait(timeout=20)})
        print(json.dumps(answers))
        """#

    static var initialize: [Any] {
        ["initialize", ["protocolVersion": "2025-06-18", "capabilities": [:] as [String: Any], "clientInfo": ["name": "driver", "version": "1"]]]
    }

    static func call(_ tool: String, _ arguments: [String: Any]) -> [Any] { ["tools/call", ["name": tool, "arguments": arguments]] }

    /// Runs the steps through `rtty mcp` as `user`; the answers, the exit status last.
    static func drive(_ rig: ScriptTests.Rig, as user: String, _ options: [String], _ steps: [[Any]]) throws -> [[String: Any]] {
        let driverPath = rig.env.root + "/driver.py"
        try driver.write(toFile: driverPath, atomically: true, encoding: .utf8)
        let input = String(decoding: try JSONSerialization.data(withJSONObject: [initialize, ["notifications/initialized", NSNull()]] + steps), as: UTF8.self)
        let run = try LocalAccounts.run(
            as: user, "/usr/bin/python3", [driverPath, BuiltProducts.path("rtty"), "mcp", "--socket-dir", rig.env.socketDir] + options, input: input, timeout: 60)
        try #require(run.status == 0, "driver: \(run.stderr)")
        let answers = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(answers.last?["exit"] as? Int == 0)
        return Array(answers.dropLast())
    }

    static func result(_ answer: [String: Any]) -> (text: String, fields: [String: Any], isError: Bool) {
        let result = answer["result"] as? [String: Any] ?? [:]
        let text = ((result["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
        return (text, result["structuredContent"] as? [String: Any] ?? [:], result["isError"] as? Bool ?? false)
    }

    @Test(.enabled(if: ScriptTests.needsRoot)) func readOnlyUnlessAllowedAndEverySessionIsAnAuditedAgentSession() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try ScriptTests.Rig()
        let answers = try Self.drive(
            rig, as: rig.user.name, [],
            [
                ["tools/list", [:] as [String: Any]],
                Self.call("list_consoles", [:]),
                Self.call("read_output", ["console": "lab1"]),
                Self.call("read_output", ["console": "pbx"]),
                Self.call("send_text", ["console": "lab1", "text": "root\r"]),
                Self.call("send_break", ["console": "pbx", "dry_run": true]),
                Self.call("wait_for", ["console": "lab1", "pattern": "never", "timeout_seconds": 0.3]),
                ["no/such/method", [:] as [String: Any]],
                // Names that would reach other sockets than consoles are refused.
                Self.call("read_output", ["console": "../run/control"]),
                Self.call("read_output", ["console": "control"]),
                Self.call("read_output", ["console": ".report"]),
            ])
        try #require(answers.count == 12)
        let initialized = try #require(answers[0]["result"] as? [String: Any])
        #expect(initialized["protocolVersion"] as? String == "2025-06-18")
        let tools = ((answers[1]["result"] as? [String: Any])?["tools"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(tools == ["list_consoles", "read_output", "send_text", "send_break", "wait_for"])
        let consoles = (Self.result(answers[2]).fields["consoles"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(consoles?.sorted() == ["lab1", "pbx"])
        // The recent output, escape sequences out: what the console showed before we came.
        let read = Self.result(answers[3])
        #expect(read.text.hasSuffix("lab1 login: "), "\(read.text)")
        #expect(read.fields["offset"] as? Int == 0)
        #expect(!Self.result(answers[4]).isError)
        let refused = Self.result(answers[5])
        #expect(refused.isError && refused.text.contains("started without --allow-write"), "\(refused.text)")
        #expect(Self.result(answers[6]).isError)
        #expect(Self.result(answers[7]).fields["matched"] as? Bool == false)
        #expect((answers[8]["error"] as? [String: Any])?["code"] as? Int == -32601)
        for answer in answers[9...] {
            let refusedName = Self.result(answer)
            #expect(refusedName.isError && refusedName.text.contains("is not a console name"), "\(refusedName.text)")
        }
        // The device got nothing: a mark from rttyctl is all it has.
        let mark = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", "login: $", "--send", #"\r"#, "--timeout", "10"])
        #expect(mark.status == 0, "stderr: \(mark.stderr)")
        #expect(rig.receivedBytes() == [13])
        // Two read-only sessions of the user (lab1, pbx), each claimed as an agent's.
        let audit = rig.audit
        let starts = audit.filter { $0.contains(#""event":"session-start""#) && $0.contains(#""uid":\#(rig.user.uid),"#) && $0.contains(#""rights":"ro""#) }
        #expect(starts.count == 2, "\(audit)")
        let claims = audit.filter { $0.contains(#""event":"session-info""#) && $0.contains(#""uid":\#(rig.user.uid),"#) && $0.contains(#""claimed_agent":"mcp client=driver 1""#) }
        #expect(claims.count == 2, "\(audit)")
    }

    @Test(.enabled(if: ScriptTests.needsRoot)) func allowWriteTypesAsTheUserAndAReadOnlyGrantStaysReadOnly() throws {
        try #require(ProcessIdentity.isRoot, "run as root (CI does)")
        let rig = try ScriptTests.Rig()
        let answers = try Self.drive(
            rig, as: rig.user.name, ["--allow-write"],
            [
                Self.call("send_text", ["console": "lab1", "text": "dry\r", "dry_run": true]),
                Self.call("send_text", ["console": "lab1", "text": "\r"]),
                Self.call("wait_for", ["console": "lab1", "pattern": "login: $", "from_offset": "@output_offset", "timeout_seconds": 10]),
                Self.call("send_text", ["console": "lab1", "text": "root\r"]),
                Self.call("wait_for", ["console": "lab1", "pattern": "root@lab1:~# $", "from_offset": "@output_offset", "timeout_seconds": 10]),
                Self.call("send_break", ["console": "pbx"]),
                Self.call("read_output", ["console": "lab1", "offset": 0, "max_bytes": 10]),
            ])
        try #require(answers.count == 8)
        let dry = Self.result(answers[1])
        #expect(!dry.isError && dry.fields["dry_run"] as? Bool == true, "\(dry.text)")
        #expect(Self.result(answers[2]).fields["sent"] as? Bool == true)
        #expect(Self.result(answers[3]).fields["match"] as? String == "login: ", "\(Self.result(answers[3]).text)")
        #expect(Self.result(answers[5]).fields["match"] as? String == "root@lab1:~# ", "\(Self.result(answers[5]).text)")
        #expect(!Self.result(answers[6]).isError, "\(Self.result(answers[6]).text)")
        #expect(Self.result(answers[7]).fields["next_offset"] as? Int == 10)
        // A user whose grant is read-only: refused, dry run or not, --allow-write or not.
        let reader = try Self.drive(
            rig, as: rig.reader.name, ["--allow-write"],
            [
                Self.call("send_text", ["console": "lab1", "text": "reboot\r", "dry_run": true]),
                Self.call("send_text", ["console": "lab1", "text": "reboot\r"]),
            ])
        for answer in reader.dropFirst() {
            let refused = Self.result(answer)
            #expect(refused.isError && refused.text.contains("grant on console lab1 is read-only"), "\(refused.text)")
        }
        let mark = try rig.rttyctl(as: rig.user.name, ["expect", "lab1", "mark", "--send", #"mark\r"#, "--timeout", "10"])
        #expect(mark.status == 0, "stderr: \(mark.stderr)")
        #expect(rig.receivedBytes() == Array("\rroot\rmark\r".utf8))
        let audit = rig.audit
        #expect(audit.contains { $0.contains(#""event":"break""#) && $0.contains(#""uid":\#(rig.user.uid),"#) }, "\(audit)")
        #expect(audit.contains { $0.contains(#""event":"session-start""#) && $0.contains(#""uid":\#(rig.reader.uid),"#) && $0.contains(#""rights":"ro""#) })
        #expect(audit.filter { $0.contains(#""claimed_agent":"mcp client=driver 1""#) }.count == 3, "\(audit)")
    }
}
