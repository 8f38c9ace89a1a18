import NIOConcurrencyHelpers
import RTTYSystem

/// One thread that does the daemon's console-log file writes, in order, so that a write
/// to the page cache (or a slow disk) runs beside the event loops instead of on them.
/// Jobs are queued by the loops; if the disk falls more than `maxQueuedBytes` behind, the
/// queuing loop waits (the same back-pressure a direct write would give), so memory stays
/// bounded and nothing is dropped.
final class LogWriter: @unchecked Sendable {
    static let shared = LogWriter(name: "rttyd-writer")
    static let maxQueuedBytes = 32 << 20

    private struct Job {
        let bytes: Int
        let work: @Sendable () -> Void
    }

    /// 1 when jobs are waiting, 0 when the queue is empty.
    private let state = ConditionLock(value: 0)
    private var jobs: [Job] = []
    private var queuedBytes = 0
    /// Jobs queued and not finished (including the ones running); under `state`'s lock.
    private var unfinished = 0

    /// `shared`, and the trigger sinks' matching thread (TriggerSink.writer).
    init(name: String) {
        ReaderThread(name: name) { [self] in run() }.start()
    }

    func submit(bytes: Int = 0, _ work: @escaping @Sendable () -> Void) {
        while true {
            state.lock()
            if queuedBytes < Self.maxQueuedBytes || bytes == 0 { break }
            state.unlock()
            Console.sleep(milliseconds: 1)
        }
        jobs.append(Job(bytes: bytes, work: work))
        queuedBytes += bytes
        unfinished += 1
        state.unlock(withValue: 1)
    }

    /// Waits until every job queued so far has run (a log being closed, daemon exit).
    func drain() {
        while true {
            state.lock()
            let left = unfinished
            state.unlock()
            if left == 0 { return }
            Console.sleep(milliseconds: 1)
        }
    }

    private func run() {
        while true {
            state.lock(whenValue: 1)
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            queuedBytes = 0
            state.unlock(withValue: 0)
            for job in batch {
                job.work()
                state.lock()
                unfinished -= 1
                state.unlock()
            }
        }
    }
}
