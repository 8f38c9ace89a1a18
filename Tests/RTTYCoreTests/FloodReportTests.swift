import RTTYCore
import Testing

/// FloodReport as a model: what a run of requests leaves reported, at given times.
@Suite struct FloodReportTests {
    @Test func aLoneRequestIsReportedAtOnceAndEndsItsRunAfterTheQuietSpell() {
        var report = FloodReport(firstWindow: 0.3)
        #expect(report.event(at: 0, dropped: false) == 0.3)
        var now = 0.3
        while let (tally, next) = report.windowEnded(at: now) {
            #expect(tally == nil, "a lone request has nothing to summarize")
            now += next
        }
        #expect(now >= FloodReport.quiet && now < FloodReport.quiet + 0.31)
        #expect(report.event(at: now + 1, dropped: false) == 0.3, "after the quiet spell: at once again")
    }

    @Test func aBurstIsOneReportAndOneSummaryWithItsCounts() {
        var report = FloodReport(firstWindow: 0.3)
        #expect(report.event(at: 0, dropped: false) != nil)
        for i in 1..<10_000 { #expect(report.event(at: Double(i) * 1e-5, dropped: true) == nil) }
        let ended = report.windowEnded(at: 0.3)
        #expect(ended?.tally == FloodReport.Tally(done: 0, dropped: 9_999))
        #expect(ended?.next == 0.6)
    }

    /// One request every 450 ms for an hour: the windows double to a minute, so about one
    /// summary a minute, and every request is counted once.
    @Test func aPacedFloodThinsOutToAboutOneSummaryAMinute() {
        var report = FloodReport(firstWindow: 0.3)
        var reports = 0, counted = 0, requests = 0
        var windowEnd = -1.0
        var t = 0.0
        while t < 3600 {
            while windowEnd >= 0 && windowEnd <= t {
                if let (tally, next) = report.windowEnded(at: windowEnd) {
                    if let tally {
                        reports += 1
                        counted += tally.done + tally.dropped
                    }
                    windowEnd += next
                } else {
                    windowEnd = -1
                }
            }
            if let window = report.event(at: t, dropped: false) {
                reports += 1
                counted += 1
                windowEnd = t + window
            }
            requests += 1
            t += 0.45
        }
        if let rest = report.drain() {
            reports += 1
            counted += rest.done + rest.dropped
        }
        #expect(counted == requests)
        #expect(reports <= 70, "\(reports) reports for \(requests) requests in an hour")
    }

    @Test func drainReturnsWhatTheWindowHeld() {
        var report = FloodReport(firstWindow: 0.25)
        _ = report.event(at: 0, dropped: false)
        _ = report.event(at: 0.1, dropped: false)
        _ = report.event(at: 0.2, dropped: true)
        #expect(report.drain() == FloodReport.Tally(done: 1, dropped: 1))
        #expect(report.drain() == nil)
        #expect(report.event(at: 0.3, dropped: false) == 0.25, "a drained report starts afresh")
    }

    @Test(arguments: [(0, "0"), (999, "999"), (1000, "1,000"), (9999, "9,999"), (1_234_567, "1,234,567")])
    func countsAreGroupedInThousands(n: Int, text: String) {
        #expect(FloodReport.count(n) == text)
    }
}
