import NIOCore
import RTTYCore
import RTTYSystem

/// The requests whose runs are reported coalesced, each with its first window: a BREAK's
/// own length (one can be on the line at a time), and a quarter second for setting changes
/// (an RFC 2217 client's open sends its five or six in a few milliseconds: one notice).
enum RequestRun: CaseIterable {
    case breaks, settings

    var firstWindow: Double { self == .breaks ? 0.3 : 0.25 }
}

/// A session's runs of BREAKs and setting changes (`FloodReport`), timed on the console's loop.
extension ConsoleHub {
    /// One request of `kind` from `client`: true when it is to be reported now, false when
    /// it was counted into the summary of the window running.
    func reportsNow(_ kind: RequestRun, from client: ClientSession, dropped: Bool) -> Bool {
        guard let window = client.runs[kind, default: FloodReport(firstWindow: kind.firstWindow)].event(at: WallClock.monotonicSeconds(), dropped: dropped) else { return false }
        endWindow(kind, of: client, after: window)
        return true
    }

    private func endWindow(_ kind: RequestRun, of client: ClientSession, after seconds: Double) {
        client.runTimers[kind] = loop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            client.runTimers[kind] = nil
            guard let (tally, next) = client.runs[kind]?.windowEnded(at: WallClock.monotonicSeconds()) else { return }
            if let tally { self.summarize(kind, of: client, tally) }
            self.endWindow(kind, of: client, after: next)
        }
    }

    /// The session ended: what its running windows held is reported now.
    func endRuns(of client: ClientSession) {
        for timer in client.runTimers.values { timer.cancel() }
        client.runTimers.removeAll()
        for kind in RequestRun.allCases {
            if let tally = client.runs[kind]?.drain() { summarize(kind, of: client, tally) }
        }
    }

    private func summarize(_ kind: RequestRun, of client: ClientSession, _ tally: FloodReport.Tally) {
        switch kind {
        case .breaks: announceBreaks(by: client, more: tally)
        case .settings: announceSettings(by: client.who, client: client, more: tally)
        }
    }
}
