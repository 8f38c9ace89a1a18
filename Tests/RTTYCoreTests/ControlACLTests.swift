import Foundation
import Testing
@testable import RTTYCore

/// The `acl` and `acl-check` replies: what the daemon sends is what rttyctl reads.
@Suite struct ControlACLTests {
    @Test func listingKeepsOrderLinesAndProblemsAndSurvivesTheWire() throws {
        let list = AccessList(parsing: "# c\nvixie pbx rw\n%ops lab*,util ro\n* lobby none\nbroken line\n", file: "/etc/rtty/access")
        let listing = ControlACL.Listing(path: "/etc/rtty/access", list: list, unreadable: nil)
        // The unreadable line 5 is listed as what it counts as: everyone denied everything.
        #expect(listing.rules.map(\.who) == ["vixie", "%ops", "*", "*"])
        #expect(listing.rules.map(\.line) == [2, 3, 4, 5])
        #expect(listing.rules[3].consoles == ["*"] && listing.rules[3].rights == "none")
        #expect(listing.rules[1].consoles == ["lab*", "util"] && listing.rules[1].rights == "ro")
        #expect(listing.problems.count == 1 && listing.problems[0].hasPrefix("/etc/rtty/access:5: expected three fields"))
        let wire = try JSONEncoder().encode(listing)
        let object = try JSONSerialization.jsonObject(with: wire) as? [String: Any]
        #expect(object?["ok"] as? Bool == true)
        #expect(try JSONDecoder().decode(ControlACL.Listing.self, from: wire) == listing)
    }

    @Test func unreadableACLIsSaidAndHasNoRules() throws {
        let listing = ControlACL.Listing(path: "/etc/rtty/access", list: AccessList(), unreadable: "Permission denied")
        let decoded = try JSONDecoder().decode(ControlACL.Listing.self, from: JSONEncoder().encode(listing))
        #expect(decoded.unreadable == "Permission denied" && decoded.rules.isEmpty)
    }

    @Test func checkCarriesTheDecision() throws {
        let check = ControlACL.Check(user: "vixie", uid: 1000, console: "pbx", rights: .ro, why: "/etc/rtty/access line 2")
        #expect(try JSONDecoder().decode(ControlACL.Check.self, from: JSONEncoder().encode(check)) == check)
        #expect(check.rights == "ro" && check.ok)
    }
}
