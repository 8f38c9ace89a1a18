import RTTYSystem

/// Whether a device console may open what its path leads to, when that is a pty slave (one
/// side of a socat pty pair standing in for a serial line). Once a pty is closed its number
/// goes to the next terminal anyone opens (an ssh login, `script`, another console's
/// command), and rttyd, as root, can open it: it would log that terminal's keystrokes,
/// show them to the console's clients and type into it. So, for a pty slave:
///
/// - its owner must be root, rttyd's user, or the owner of the configured path when that
///   is a symlink (a user's socat making its link to its own pty); another user's
///   terminal is refused even at the first open;
/// - once this console opened a pty slave and lost it, it opens a pty slave again only
///   through a symlink made anew since (socat started again remakes its `link=`): a plain
///   /dev/pts/N, or the link a killed socat left behind, now leads to whoever's pty took
///   the number. Root's own terminals are no exception: sshd makes a login's pty as root
///   before it hands it over.
///
/// The console stays down with the reason (retrying with the normal back-off) until the
/// link is made anew or the console is reconfigured.
struct PtyAdmission {
    /// What the console opened last since it started or was reconfigured.
    private var last: DeviceOrigin?
    private let daemonUID = ProcessIdentity.effectiveUID

    /// Why `origin` must not be opened, or nil.
    func refusal(_ origin: DeviceOrigin) -> String? {
        guard origin.isPtySlave else { return nil }
        if origin.owner != 0, origin.owner != daemonUID, origin.owner != origin.link?.owner {
            let name = Accounts.userName(origin.owner).map { " (\($0))" } ?? ""
            let by = origin.link == nil ? "root or rttyd's user" : "root, rttyd's user or the link's owner"
            return "a pty slave owned by uid \(origin.owner)\(name), not by \(by): someone else's terminal; not opened"
        }
        guard let last, last.isPtySlave else { return nil }
        guard let link = origin.link else {
            return "a pty slave whose pty was closed: the pty with that number now is a new one, someone else's terminal; not opened (name it by a link made anew for each pty, such as socat's link=, or reconfigure the console)"
        }
        if link == last.link {
            return "the same link as before, to a pty number whose pty was closed (the link was not made anew): someone else's terminal; not opened"
        }
        return nil
    }

    mutating func opened(_ origin: DeviceOrigin) { last = origin }

    /// A reconfigured console starts afresh: the administrator named the device again.
    mutating func reset() { last = nil }
}
