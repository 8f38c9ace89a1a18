/// How one session's run of one kind of request (BREAKs, line-setting changes) is told to
/// the others, the console log and the audit log. Each of those requests used to cost a
/// notice to every client, a log marker and an audit record, so one client's flood was
/// multiplied by every watcher.
///
/// The first request after a quiet spell is reported at once (an ordinary BREAK or `set`
/// looks as it always did). Requests within the window that follows are counted, not
/// reported; when the window ends one summary says how many there were. While the run
/// goes on each window is twice the last, up to `maxWindow`, so a flood that lasts an
/// hour leaves about one summary a minute. The run ends only after `quiet` seconds
/// without a request: a flooder who paces its requests just past one window does not
/// start a new run (and a report at once) each time.
/// Pure: the console's event loop keeps the time and calls `windowEnded`.
public struct FloodReport: Sendable, Equatable {
    public static let maxWindow = 60.0
    public static let quiet = 5.0

    /// What a window held besides the request that opened the run.
    public struct Tally: Sendable, Equatable {
        /// Carried out (a BREAK sent, a change applied).
        public var done = 0
        /// Not carried out (a BREAK while one was in progress, a change the line refused).
        public var dropped = 0

        public init(done: Int = 0, dropped: Int = 0) {
            self.done = done
            self.dropped = dropped
        }

        public var isEmpty: Bool { done == 0 && dropped == 0 }
    }

    /// The first window's length, in seconds.
    public let firstWindow: Double
    /// The window running now; nil while quiet.
    public private(set) var window: Double?
    public private(set) var tally = Tally()
    private var lastRequest = -Double.infinity

    public init(firstWindow: Double) {
        self.firstWindow = firstWindow
    }

    /// One request at `now` (seconds). Returns the length of the window to start when this
    /// one is to be reported now (it opens a run); nil when it was counted into the run.
    public mutating func event(at now: Double, dropped: Bool) -> Double? {
        lastRequest = now
        guard window != nil else {
            window = firstWindow
            return firstWindow
        }
        if dropped { tally.dropped += 1 } else { tally.done += 1 }
        return nil
    }

    /// The running window ended at `now`. Returns what it held, if anything, and the next
    /// window's length; nil when the run is over (quiet for `quiet` seconds).
    public mutating func windowEnded(at now: Double) -> (tally: Tally?, next: Double)? {
        guard let current = window else { return nil }
        guard !tally.isEmpty else {
            if now - lastRequest >= FloodReport.quiet {
                window = nil
                return nil
            }
            return (nil, current)
        }
        let held = tally
        tally = Tally()
        let next = min(current * 2, FloodReport.maxWindow)
        window = next
        return (held, next)
    }

    /// The session ended: what the running window held, if anything.
    public mutating func drain() -> Tally? {
        let held = tally
        self = FloodReport(firstWindow: firstWindow)
        return held.isEmpty ? nil : held
    }

    /// A count as people read it in a notice: 9,999.
    public static func count(_ n: Int) -> String {
        let digits = Array(String(n.magnitude))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return n < 0 ? "-" + out : out
    }
}
