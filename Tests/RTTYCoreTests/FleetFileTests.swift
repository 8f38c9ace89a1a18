import Foundation
import Testing
@testable import RTTYCore

/// The fleet file (rtty-fleet(5)): what it means, and that every bad line is refused with
/// its line number before any ssh runs.
@Suite struct FleetFileTests {
    static let example = """
        # three racks behind a bastion
        timeout 3
        option ServerAliveInterval=15 StrictHostKeyChecking=yes
        host office                                  # no group
        group lab
        option ProxyJump=bastion.example.org
        host rack1
        host rack2 ops@rack2.lab.example.org Port=2222
        host rack3 rack3.lab.example.org ProxyJump=none
        rttyctl /usr/local/sbin/rttyctl --control /run/rtty/control
        """

    @Test func optionsGoMostSpecificFirstBecauseSSHKeepsTheFirstValue() throws {
        let fleet = try FleetFile.parse(Self.example, file: "fleet")
        #expect(fleet.timeout == 3)
        #expect(fleet.hosts.map(\.name) == ["office", "rack1", "rack2", "rack3"])
        #expect(fleet.hosts.map(\.group) == [nil, "lab", "lab", "lab"])
        #expect(fleet.host(named: "office")?.options.map(\.word) == ["ServerAliveInterval=15", "StrictHostKeyChecking=yes"])
        #expect(fleet.host(named: "rack1")?.destination == "rack1")
        #expect(fleet.host(named: "rack2")?.destination == "ops@rack2.lab.example.org")
        #expect(fleet.host(named: "rack2")?.options.map(\.word) == ["Port=2222", "ProxyJump=bastion.example.org", "ServerAliveInterval=15", "StrictHostKeyChecking=yes"])
        #expect(fleet.host(named: "rack3")?.options.first?.word == "ProxyJump=none")
        #expect(fleet.host(named: "rack3")?.line == 9)
        #expect(fleet.host(named: "rack3")?.rttyctl == ["/usr/local/sbin/rttyctl", "--control", "/run/rtty/control"])
        #expect(fleet.host(named: "office")?.rttyctl == ["rttyctl"])
    }

    @Test(arguments: [
        ("host -oProxyCommand=sh", 1, "must not start with '-'"),
        ("host rack1 -oProxyCommand=sh", 1, "not an ssh_config(5) keyword"),
        ("host rack1 -F/tmp/x", 1, "must not start with '-'"),
        ("host rack:1", 1, "a ':' separates"),
        ("host rack1\nhost rack1", 2, "already on line 1"),
        ("timeout 0", 1, "timeout takes one number"),
        ("timeout 5\ntimeout 6", 2, "given twice"),
        ("host a\noption Port=22", 2, "comes before the first host line"),
        ("host a b Port", 1, "is not KEY=VALUE"),
        ("host a b -p=22", 1, "not an ssh_config(5) keyword"),
        ("host a b Port=", 1, "has no value"),
        ("group", 1, "group takes one name"),
        ("group g\ngroup g", 2, "given twice"),
        ("hosts a", 1, "unknown statement hosts"),
        ("host a\u{1b}[2J", 1, "control character"),
        ("host a b ProxyCommand=x\u{7f}", 1, "control character"),
        ("host @", 1, "may hold only"),
        ("host a @b", 1, "is not [user@]host"),
        ("rttyctl rttyctl;id", 1, "may hold only"),
        ("rttyctl -x", 1, "takes the remote command"),
    ])
    func badLinesAreRefusedWithTheirLineNumber(text: String, line: Int, message: String) {
        #expect(throws: FleetFileError.self) { try FleetFile.parse(text, file: "f") }
        do {
            _ = try FleetFile.parse(text, file: "f")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("f:\(line): "), "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(!error.description.contains("\u{1b}"), "the error is shown escaped")
        }
    }

    @Test func crlfAndByteOrderMarkAreLines() throws {
        let fleet = try FleetFile.parse("\u{FEFF}host a\r\nhost b # comment\r\n", file: "f")
        #expect(fleet.hosts.map(\.name) == ["a", "b"])
    }

    /// `HOST:NAME` only when HOST is in the fleet; console names may hold ':' themselves.
    @Test func hostColonNameNeedsAHostOfTheFleet() throws {
        let fleet = try FleetFile.parse("host rack1\nhost rack2", file: "f")
        #expect(FleetTarget.parse("rack1:pbx", fleet: fleet) == .success(.on(host: "rack1", console: "pbx")))
        #expect(FleetTarget.parse("lab:pbx", fleet: fleet) == .success(.anywhere(console: "lab:pbx")))
        #expect(FleetTarget.parse("pbx", fleet: fleet) == .success(.anywhere(console: "pbx")))
        // A console name that ssh or a shell could read as something else never gets out.
        for word in ["-oProxyCommand=sh", "rack1:-r", "pbx;id", "rack1:$(id)", "a b", ""] {
            guard case .failure = FleetTarget.parse(word, fleet: fleet) else {
                Issue.record("\(word) was taken as a console")
                continue
            }
        }
    }
}

/// `ssh HOST list --json`: the listing's JSON keeps every string a string, whatever it holds.
@Suite struct ConsoleListingTests {
    @Test func hostileStringsCannotBreakTheJSON() throws {
        let hostile = "pbx\",\"rights\":\"rw\"}]} \u{1b}]0;owned\u{07}\n\\\u{0}\u{202e}"
        let listing = ConsoleListing(user: hostile, consoles: [ConsoleListing.Entry(name: hostile, rights: "ro", state: hostile, clients: 1, settings: hostile)])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(listing)
        let text = String(decoding: data, as: UTF8.self)
        #expect(!text.contains("\n") && !text.contains("\u{1b}") && !text.contains("\u{0}") && !text.contains("\u{07}"), "\(text)")
        let back = try JSONDecoder().decode(ConsoleListing.self, from: data)
        #expect(back == listing)
        #expect(back.consoles.count == 1 && back.consoles[0].rights == "ro")
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        #expect((object?["consoles"] as? [Any])?.count == 1)
    }

    @Test(arguments: [
        ("list", ShellRequest.list(json: false)),
        ("list --json", .list(json: true)),
        ("  list   --json ", .list(json: true)),
    ])
    func listIsARequest(command: String, expected: ShellRequest) {
        #expect(ShellRequest.parse(arguments: ["rtty-shell", "-c", command], originalCommand: nil) == expected)
        #expect(ShellRequest.parse(arguments: ["rtty-shell", "-c", "x"], originalCommand: command) == expected)
    }

    @Test(arguments: ["list --json extra", "list --xml", "list -r", "-r list --json", "list --json --json", "list pbx"])
    func anythingMoreThanTheListingIsRefused(command: String) {
        guard case .refused = ShellRequest.parse(arguments: ["rtty-shell", "-c", command], originalCommand: nil) else {
            Issue.record("\(command) was not refused")
            return
        }
    }
}
