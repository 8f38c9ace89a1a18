import Testing
@testable import RTTYCore

/// rttyctl grant/revoke as text edits: the result must decide as asked, and everything
/// else in the file (comments, blank lines, other lines' order) must stay.
@Suite struct AccessEditTests {
    let base = """
        # site ACL: keep this comment

        mallory   *            none
        %ops      pbx,lab*     rw     # the ops team
        vixie     util,pbx     ro
        *         lobby        ro

        """

    func vixie(_ groups: [String] = []) throws -> AccessEdit.Grantee { try AccessEdit.Grantee("vixie", groups: groups) }

    func rights(_ text: String, _ user: String, _ groups: [String], _ console: String) -> AccessList.Rights {
        AccessList(parsing: text, file: "t").decide(user: user, groups: groups, console: console).rights
    }

    @Test func grantIntoAnEmptyFile() throws {
        let text = try AccessEdit.grant("", grantee: vixie(), consoles: ["pbx"], rights: .rw, note: "n")
        #expect(text == "vixie pbx rw  # n\n")
    }

    @Test func grantReplacesTheUsersOwnEntryAndKeepsTheRest() throws {
        let text = try AccessEdit.grant(base, grantee: vixie(), consoles: ["pbx"], rights: .rw, note: "")
        #expect(rights(text, "vixie", [], "pbx") == .rw)
        #expect(rights(text, "vixie", [], "util") == .ro)
        #expect(text.contains("# site ACL: keep this comment\n\nmallory"))
        #expect(text.contains("%ops pbx,lab* rw") == false && text.contains("%ops      pbx,lab*     rw     # the ops team"))
        #expect(text.contains("vixie util ro"))
        #expect(!text.contains("vixie     util,pbx     ro"))
    }

    @Test func grantGoesBeforeAGroupLineThatWouldDecide() throws {
        // vixie is in ops, which gives rw on pbx; a read-only grant must win over that.
        let text = try AccessEdit.grant(base, grantee: vixie(["ops"]), consoles: ["pbx"], rights: .ro, note: "")
        #expect(rights(text, "vixie", ["ops"], "pbx") == .ro)
        #expect(rights(text, "alice", ["ops"], "pbx") == .rw)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.firstIndex(of: "vixie pbx ro")! < lines.firstIndex { $0.hasPrefix("%ops") }!)
    }

    @Test func grantAGroup() throws {
        let text = try AccessEdit.grant(base, grantee: AccessEdit.Grantee("%dev", groups: []), consoles: ["lab*"], rights: .rw, note: "")
        #expect(rights(text, "bob", ["dev"], "lab3") == .rw)
    }

    @Test func revokeRemovesOnlyThatConsoleFromTheLine() throws {
        let text = try AccessEdit.revoke(base, grantee: vixie(), consoles: ["pbx"], known: ["pbx", "util", "lobby"], note: "")
        #expect(rights(text, "vixie", [], "pbx") == .none)
        #expect(rights(text, "vixie", [], "util") == .ro)
        #expect(!text.contains("none  #"), "no deny line needed: \(text)")
    }

    @Test func revokeThroughAGroupOrGlobAddsADenyLineInFront() throws {
        let text = try AccessEdit.revoke(base, grantee: vixie(["ops"]), consoles: ["lab3"], known: ["lab3"], note: "n")
        #expect(rights(text, "vixie", ["ops"], "lab3") == .none)
        #expect(rights(text, "alice", ["ops"], "lab3") == .rw)
        #expect(text.contains("vixie lab3 none  # n"))
    }

    @Test func revokeEverythingRemovesTheUsersLinesAndDeniesTheRest() throws {
        let text = try AccessEdit.revoke(base, grantee: vixie(["ops"]), consoles: nil, known: ["pbx", "util", "lobby", "lab1"], note: "")
        for console in ["pbx", "util", "lobby", "lab1"] {
            #expect(rights(text, "vixie", ["ops"], console) == .none, "\(console)")
        }
        #expect(!text.contains("util,pbx"))
        #expect(rights(text, "guest", [], "lobby") == .ro)
    }

    @Test func revokeOfNothingChangesNothing() throws {
        let text = try AccessEdit.revoke(base, grantee: AccessEdit.Grantee("nobody2", groups: []), consoles: ["pbx"], known: ["pbx"], note: "")
        #expect(text == base)
    }

    @Test(arguments: ["*", "", "a b", "%"]) func badGranteesAreRefused(word: String) {
        #expect(throws: AccessEdit.Failure.self) { try AccessEdit.Grantee(word, groups: []) }
    }

    @Test(arguments: ["a/b", "x,y", "p#q", ""]) func badConsolesAreRefused(console: String) throws {
        let grantee = try vixie()
        #expect(throws: AccessEdit.Failure.self) { try AccessEdit.grant(base, grantee: grantee, consoles: [console], rights: .rw, note: "") }
    }
}
