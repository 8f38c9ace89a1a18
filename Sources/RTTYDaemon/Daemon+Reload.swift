import RTTYSystem

/// `rttyctl reload`: the request waits for the outcome of a reload that `run()` performs,
/// as for SIGHUP, so reloads stay in one place and one at a time. The request queues and
/// sends SIGHUP; the reload that next reads the configuration answers every request
/// queued before it.
extension Daemon {
    func requestReload() async -> ReloadOutcome {
        await withCheckedContinuation { waiter in
            let queued = reloadWaiters.withLockedValue { $0.add(waiter) }
            if queued { Signals.hangUpSelf() } else { waiter.resume(returning: .stopping) }
        }
    }
}

/// What a reload did: refused (the configuration is invalid; nothing changed), or applied,
/// with what changed and the consoles that could not be (re)started.
struct ReloadOutcome: Sendable {
    var refused: String?
    var summary = ""
    var problems: [String] = []

    static let stopping = ReloadOutcome(refused: "rttyd is stopping; nothing was reloaded")
}

/// Reload requests waiting for an outcome; none are taken once the daemon is stopping.
struct ReloadWaiters {
    private var waiting: [CheckedContinuation<ReloadOutcome, Never>] = []
    private var stopping = false

    /// False when the daemon is stopping: the request is answered so at once.
    mutating func add(_ waiter: CheckedContinuation<ReloadOutcome, Never>) -> Bool {
        guard !stopping else { return false }
        waiting.append(waiter)
        return true
    }

    /// Everyone waiting now, to be told the outcome of the reload that starts.
    mutating func take(stopping: Bool = false) -> [CheckedContinuation<ReloadOutcome, Never>] {
        self.stopping = self.stopping || stopping
        defer { waiting = [] }
        return waiting
    }
}
