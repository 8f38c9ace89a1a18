import Testing
@testable import RTTYCore

/// The one access decision (AccessDecision.decide), which the daemon's admission, its
/// `rttyctl acl check` answer and rtty-shell's menu all call: a table of who gets what.
@Suite struct AccessDecisionTests {
    static let file = "/etc/rtty/access"
    static let acl = AccessList(
        parsing: """
            root      *          none
            mallory   *          none
            %ops      pbx,lab*   rw
            guest     guests     ro
            *         guests     ro
            vixie     *          rw
            """, file: file)
    static let daemonUID: UInt32 = 998

    struct Case: Sendable, CustomTestStringConvertible {
        let uid: UInt32
        let name: String?
        let groups: [String]
        let console: String
        let rights: AccessList.Rights
        let why: String
        var testDescription: String { "\(name ?? "uid \(uid)") on \(console)" }
    }

    static let cases: [Case] = [
        // Root: every console, whatever the ACL says (its line 1 denies root).
        Case(uid: 0, name: "root", groups: [], console: "pbx", rights: .rw, why: "root"),
        // The daemon's own user.
        Case(uid: daemonUID, name: "rttyd", groups: [], console: "util", rights: .rw, why: "the daemon's own user"),
        // A deny line above a group grant wins: the first line decides.
        Case(uid: 1001, name: "mallory", groups: ["ops"], console: "pbx", rights: .none, why: "\(file) line 2"),
        Case(uid: 1002, name: "alice", groups: ["ops"], console: "lab7", rights: .rw, why: "\(file) line 3"),
        Case(uid: 1002, name: "alice", groups: ["ops"], console: "guests", rights: .ro, why: "\(file) line 5"),
        Case(uid: 1002, name: "alice", groups: ["ops"], console: "util", rights: .none, why: "no line of \(file) names this user and console"),
        // admin_group gives rttyctl, not consoles: an admin the ACL does not name gets what everyone gets.
        Case(uid: 1003, name: "admin", groups: ["rtty-admin"], console: "pbx", rights: .none, why: "no line of \(file) names this user and console"),
        Case(uid: 1003, name: "admin", groups: ["rtty-admin"], console: "guests", rights: .ro, why: "\(file) line 5"),
        Case(uid: 1004, name: "guest", groups: [], console: "guests", rights: .ro, why: "\(file) line 4"),
        // A later line never widens an earlier one: vixie's `* rw` comes after `* guests ro`.
        Case(uid: 1005, name: "vixie", groups: [], console: "guests", rights: .ro, why: "\(file) line 5"),
        Case(uid: 1005, name: "vixie", groups: [], console: "pbx", rights: .rw, why: "\(file) line 6"),
        // A uid with no account: nothing, even where `*` would let everyone in.
        Case(uid: 4242, name: nil, groups: [], console: "guests", rights: .none, why: "uid 4242 has no user name"),
    ]

    @Test(arguments: cases) func decides(_ c: Case) {
        let policy = AccessDecision.Policy(list: Self.acl, file: Self.file, serviceUID: Self.daemonUID)
        let decision = AccessDecision.decide(.init(uid: c.uid, name: c.name, groups: c.groups), console: c.console, policy: policy)
        #expect(decision == AccessDecision(rights: c.rights, why: c.why))
    }

    /// An ACL the daemon could not read lets nobody but root (and itself) in.
    @Test func unreadableListLetsOnlyRootIn() {
        let policy = AccessDecision.Policy(list: AccessList(), file: Self.file, unreadable: "Permission denied", serviceUID: Self.daemonUID)
        let vixie = AccessDecision.decide(.init(uid: 1005, name: "vixie", groups: []), console: "pbx", policy: policy)
        #expect(vixie == AccessDecision(rights: .none, why: "\(Self.file) cannot be read (Permission denied): nobody but root gets in"))
        #expect(AccessDecision.decide(.init(uid: 0, name: "root", groups: []), console: "pbx", policy: policy).rights == .rw)
    }

    /// rtty-shell does not know the daemon's uid: there that user is decided by the ACL
    /// (the daemon, deciding again on connect, lets it in).
    @Test func withoutAServiceUIDTheDaemonsUserIsDecidedByTheList() {
        let policy = AccessDecision.Policy(list: Self.acl, file: Self.file)
        #expect(AccessDecision.decide(.init(uid: Self.daemonUID, name: "rttyd", groups: []), console: "guests", policy: policy).rights == .ro)
    }
}
