import Testing
@testable import RTTYCore

@Suite struct AccessListTests {
    let acl = AccessList(
        parsing: """
            # who          consoles           rights
            mallory        *                  none      # denied first: nothing later widens it
            vixie          *                  rw
            %ops           pbx,util,lab*      rw
            guest          guests             ro
            *              lobby              ro
            mallory        lobby              rw
            """, file: "/etc/rtty/access")

    @Test(arguments: [
        ("vixie", [String](), "pbx", AccessList.Rights.rw),
        ("vixie", [], "anything", .rw),
        ("alice", ["ops"], "lab7", .rw),
        ("alice", ["ops"], "util", .rw),
        ("alice", ["ops"], "guests", .none),
        ("alice", ["dev"], "pbx", .none),
        ("guest", [], "guests", .ro),
        ("guest", [], "pbx", .none),
        ("anyone", [], "lobby", .ro),
        ("mallory", ["ops"], "pbx", .none),
        ("mallory", [], "lobby", .none),
    ])
    func firstMatchingLineDecides(user: String, groups: [String], console: String, expected: AccessList.Rights) {
        #expect(acl.decide(user: user, groups: groups, console: console).rights == expected)
        #expect(acl.problems.isEmpty)
    }

    @Test func decisionNamesTheLine() {
        #expect(acl.decide(user: "alice", groups: ["ops"], console: "lab1").line == 4)
        #expect(acl.decide(user: "nobody", groups: [], console: "pbx").line == nil)
    }

    @Test func badLinesAreReportedAndGrantNothing() {
        let bad = AccessList(
            parsing: """
                dave pbx rwx
                dave * rw
                bob/x lab rw
                carol a/b rw
                vixie pbx
                """, file: "access")
        #expect(bad.problems.map(\.line) == [1, 3, 4, 5])
        #expect(bad.problems.allSatisfy { $0.description.hasPrefix("access:") })
        // A bad rights word is a denial for what it names, not a skipped line.
        #expect(bad.decide(user: "dave", groups: [], console: "pbx").rights == .none)
        #expect(bad.decide(user: "dave", groups: [], console: "other").rights == .rw)
        // A bad user denies its consoles to everyone; a bad console list or field count, all.
        #expect(bad.decide(user: "bob", groups: [], console: "lab") == (.none, 3))
        #expect(bad.decide(user: "vixie", groups: [], console: "util") == (.none, 4))
        #expect(bad.decide(user: "vixie", groups: [], console: "pbx").rights == .none)
        #expect(AccessList().decide(user: "vixie", groups: [], console: "pbx").rights == .none)
    }

    @Test(arguments: [
        ("lab*", "lab1", true), ("lab*", "lab", true), ("lab*", "xlab", false), ("l?b", "lab", true),
        ("*", "", true), ("vm[0-9]", "vm7", true), ("vm[0-9]", "vmx", false), ("vm[!0-9]", "vmx", true),
        ("*a*b", "xxaxxb", true), ("*a*b", "xxaxxc", false), ("pbx", "PBX", false),
    ])
    func globs(pattern: String, name: String, expected: Bool) {
        #expect(Glob.matches(pattern, name) == expected)
    }
}
