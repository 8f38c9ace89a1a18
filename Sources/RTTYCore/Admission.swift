/// Whether one more client may join a console, once the ACL said it may use it: the one
/// place the client limits are decided, for Unix-socket and TCP clients alike.
///
/// `max_clients` is the console's cap for ordinary users; `max_clients_per_user` stops one
/// user (or, for TCP, one address) from filling it. Root and the admin group are never
/// locked out by others: they may join past `max_clients`, into `adminReserve` slots no
/// ordinary client can take (reserved above the cap rather than inside it, so that
/// `max_clients = 1` still lets a user in).
public enum Admission {
    public static let adminReserve = 2

    public struct Limits: Equatable, Sendable {
        public var maxClients: Int
        public var maxClientsPerUser: Int

        public init(maxClients: Int, maxClientsPerUser: Int) {
            self.maxClients = maxClients
            self.maxClientsPerUser = maxClientsPerUser
        }
    }

    public enum Verdict: Equatable, Sendable {
        case admit
        /// Refused; the reason names the limit, for the client, the log and the audit record.
        case refuse(String)
    }

    /// `privileged`: root or a member of the admin group. `ownSessions`: the sessions this
    /// user (a TCP client: this address) already has on the console; `clients`: all of them.
    public static func decide(privileged: Bool, ownSessions: Int, clients: Int, limits: Limits) -> Verdict {
        if privileged {
            guard clients < limits.maxClients + adminReserve else {
                return .refuse("console full: max_clients \(limits.maxClients) and the \(adminReserve) slots kept for root and the admin group are taken")
            }
            return .admit
        }
        guard clients < limits.maxClients else { return .refuse("console full: max_clients \(limits.maxClients)") }
        guard ownSessions < limits.maxClientsPerUser else {
            return .refuse("too many sessions: max_clients_per_user \(limits.maxClientsPerUser)")
        }
        return .admit
    }
}
