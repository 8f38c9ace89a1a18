import Logging
import NIOConcurrencyHelpers
import NIOCore
import RTTYCore
import RTTYSystem

/// A console's triggers as a sink of its output: the loop only copies each read into a
/// batch; the lines are cut and matched on `TriggerSink.writer`, a thread of its own, and
/// what a match does comes back to the loop (notice, log mark, audit) or goes to a thread
/// of its own (the command). Made anew when a reload changes the console's triggers.
final class TriggerSink: OutputSink, @unchecked Sendable {
    /// One thread matches for every console, with the console log's back-pressure: if it
    /// falls 32 MiB behind, the loop waits, so no line goes unmatched.
    static let writer = LogWriter(name: "rttyd-triggers")
    /// A batch is handed over at this size, or `handOverDelay` after its first byte. Each
    /// hand-over wakes the matching thread: 64 KiB, as the console log's batches, makes a
    /// pty firehose cost 16 wake-ups per MiB, not 64.
    static let handOverBytes = 64 << 10
    static let handOverDelay = TimeAmount.milliseconds(5)
    /// Audit records, notices and marks per trigger: at most `eventsPerWindow` in a
    /// window of `eventWindow` seconds; the rest are counted into the next one reported
    /// (a guest printing "BUG:" in a loop must not flood the audit log or every client).
    static let eventsPerWindow = 10
    static let eventWindow = 10.0
    /// The most of a line a notice shows (a classic NOTICE frame holds 468 bytes).
    static let shownLimit = 400

    let triggers: [Trigger]
    private weak var hub: ConsoleHub?
    private let loop: EventLoop
    private let console: String
    private let logger: Logger
    private let audit: AuditLog
    private let logPath: String?

    // On the loop.
    private var batch: [UInt8] = []
    private var handOver: Scheduled<Void>?

    // On the writer thread.
    private var matcher: TriggerMatcher
    private var limits: [Limit]

    /// Whether each trigger's command is running; set on the writer, cleared by the run.
    private let running: NIOLockedValueBox<[Bool]>

    private struct Limit {
        var windowStart = -Double.infinity
        var events = 0
        var suppressed = 0
        var lastRun = -Double.infinity
        var skipped = 0
    }

    /// nil when the console has no triggers: such a console pays nothing. What the sink
    /// it replaces (a reload) holds is matched by its own triggers first.
    static func make(for hub: ConsoleHub, replacing old: TriggerSink? = nil) -> TriggerSink? {
        old?.handOverBatch()
        return hub.config.triggers.isEmpty ? nil : TriggerSink(hub)
    }

    private init(_ hub: ConsoleHub) {
        self.hub = hub
        triggers = hub.config.triggers
        loop = hub.loop
        console = hub.name
        logger = hub.logger
        audit = hub.audit
        logPath = hub.config.log ? hub.logPath : nil
        matcher = TriggerMatcher(patterns: triggers.map(\.pattern))
        limits = Array(repeating: Limit(), count: triggers.count)
        running = NIOLockedValueBox(Array(repeating: false, count: triggers.count))
        batch.reserveCapacity(Self.handOverBytes)
    }

    func append(_ burst: ByteBuffer) {
        burst.withUnsafeReadableBytes { batch.append(contentsOf: $0) }
        if batch.count >= Self.handOverBytes { handOverBatch() }
    }

    /// Short bursts (a prompt, a panic's last lines before the machine stops) are handed
    /// over within `handOverDelay`, not one job per read.
    func burstEnded() {
        guard !batch.isEmpty, handOver == nil else { return }
        handOver = loop.scheduleTask(in: Self.handOverDelay) { self.handOverBatch() }
    }

    private func handOverBatch() {
        handOver?.cancel()
        handOver = nil
        guard !batch.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.handOverBytes)
        swap(&bytes, &batch)
        let full = bytes
        Self.writer.submit(bytes: full.count) { self.match(full) }
    }

    // MARK: on the writer thread

    private func match(_ bytes: [UInt8]) {
        var found: [TriggerMatcher.Match] = []
        bytes.withUnsafeBytes { matcher.feed($0) { found.append($0) } }
        for match in found { fired(match) }
    }

    private func fired(_ match: TriggerMatcher.Match) {
        let trigger = triggers[match.trigger]
        let now = WallClock.monotonicSeconds()
        var limit = limits[match.trigger]
        defer { limits[match.trigger] = limit }
        var command: String?
        if !trigger.command.isEmpty {
            if now - limit.lastRun < Double(trigger.commandInterval) {
                limit.skipped += 1
                command = "not run: ran less than \(trigger.commandInterval) s ago"
            } else if running.withLockedValue({ $0[match.trigger] }) {
                limit.skipped += 1
                command = "not run: still running"
            } else {
                limit.lastRun = now
                command = "started"
                start(trigger, index: match.trigger, match: match, skipped: limit.skipped)
                limit.skipped = 0
            }
        }
        if now - limit.windowStart >= Self.eventWindow {
            limit.windowStart = now
            limit.events = 0
        }
        guard limit.events < Self.eventsPerWindow else {
            limit.suppressed += 1
            return
        }
        limit.events += 1
        let (suppressed, said) = (limit.suppressed, command)
        limit.suppressed = 0
        loop.execute { self.hub?.triggerFired(trigger, match, suppressed: suppressed, command: said) }
    }

    private func start(_ trigger: Trigger, index: Int, match: TriggerMatcher.Match, skipped: Int) {
        running.withLockedValue { $0[index] = true }
        var environment = [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "RTTY_CONSOLE=\(console)", "RTTY_TRIGGER=\(trigger.name)",
            "RTTY_LINE=\(match.line)", "RTTY_MATCH=\(match.matched)",
            "RTTY_TIME=\(WallClock.now().iso8601)", "RTTY_SKIPPED=\(skipped)",
        ]
        if let logPath { environment.append("RTTY_LOG=\(logPath)") }
        let (console, logger, audit, running, given) = (console, logger, audit, running, environment)
        ReaderThread(name: "rttyd-trigger-run") {
            let status: String
            do {
                let outcome = try CommandRun.run(trigger.command, environment: given, timeout: Double(trigger.commandTimeout))
                for line in outcome.output.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast(outcome.output.last == 0x0A ? 1 : 0) {
                    logger.notice("trigger \(trigger.name) command output: \(TerminalText.escaped(line))")
                }
                if outcome.dropped > 0 { logger.notice("trigger \(trigger.name) command: \(outcome.dropped) more bytes of output not logged") }
                status = outcome.status
            } catch {
                status = "could not run: \(error)"
            }
            logger.notice("trigger \(trigger.name) command \(trigger.command[0]): \(status)")
            var event = AuditEvent(time: WallClock.now(), kind: .triggerCommand, console: console)
            event.details = [("trigger", .text(trigger.name)), ("command", .text(trigger.command[0])), ("status", .text(status))]
            audit.record(event)
            running.withLockedValue { $0[index] = false }
        }.start()
    }
}

extension ConsoleHub {
    /// What a trigger's match does on the loop: the audit record, the notice, the mark.
    func triggerFired(_ trigger: Trigger, _ match: TriggerMatcher.Match, suppressed: Int, command: String?) {
        if trigger.audit {
            var details: [(String, AuditEvent.Detail)] = [("trigger", .text(trigger.name)), ("line", .text(match.line)), ("matched", .text(match.matched))]
            if suppressed > 0 { details.append(("suppressed", .number(suppressed))) }
            if let command { details.append(("command", .text(command))) }
            record(.trigger, nil, details)
        }
        let more = suppressed > 0 ? " (\(suppressed) earlier matches not reported)" : ""
        if trigger.notice {
            broadcast(notice: "trigger \(trigger.name): \(TriggerSink.shown(match.line))\(more)")
        }
        if trigger.mark {
            log?.mark("trigger \(trigger.name): \(match.line)\(more)")
        }
    }
}

extension TriggerSink {
    /// A line cut to what fits a notice frame, at a character boundary.
    static func shown(_ line: String) -> String {
        guard line.utf8.count > shownLimit else { return line }
        var out = ""
        for character in line {
            if out.utf8.count + character.utf8.count > shownLimit - 3 { break }
            out.append(character)
        }
        return out + "..."
    }
}
