import Testing
@testable import RTTYCore

/// The client limits (issue 12, item 5), decided without I/O.
@Suite struct AdmissionTests {
    static let limits = Admission.Limits(maxClients: 10, maxClientsPerUser: 3)

    static func decide(privileged: Bool = false, own: Int, clients: Int, limits: Admission.Limits = limits) -> Admission.Verdict {
        Admission.decide(privileged: privileged, ownSessions: own, clients: clients, limits: limits)
    }

    @Test func oneUserGetsNoMoreThanItsShare() {
        #expect(Self.decide(own: 2, clients: 2) == .admit)
        #expect(Self.decide(own: 3, clients: 3) == .refuse("too many sessions: max_clients_per_user 3"))
        // Another user is still let in.
        #expect(Self.decide(own: 0, clients: 3) == .admit)
    }

    @Test func aFullConsoleRefusesOrdinaryUsersButNotRootOrAdmins() {
        #expect(Self.decide(own: 0, clients: 10) == .refuse("console full: max_clients 10"))
        #expect(Self.decide(privileged: true, own: 0, clients: 10) == .admit)
        #expect(Self.decide(privileged: true, own: 5, clients: 10 + Admission.adminReserve - 1) == .admit, "no per-user limit for admins")
        guard case .refuse(let why) = Self.decide(privileged: true, own: 0, clients: 10 + Admission.adminReserve) else {
            Issue.record("admins past the reserve were admitted")
            return
        }
        #expect(why.contains("kept for root and the admin group"))
    }

    @Test func maxClientsOfOneStillLetsAUserIn() {
        let one = Admission.Limits(maxClients: 1, maxClientsPerUser: 8)
        #expect(Self.decide(own: 0, clients: 0, limits: one) == .admit)
        #expect(Self.decide(own: 0, clients: 1, limits: one) == .refuse("console full: max_clients 1"))
    }
}
