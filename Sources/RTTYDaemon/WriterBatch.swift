import NIOConcurrencyHelpers
import NIOCore

/// A batch of bytes on its way to the `LogWriter` thread, and the pool its buffer comes
/// back to: a fresh buffer per batch would cost page faults on the loop and unmapping on
/// the writer.
final class WriterBatch: @unchecked Sendable {
    var bytes: [UInt8] = []

    final class Pool: Sendable {
        private let spares = NIOLockedValueBox<[WriterBatch]>([])

        func take() -> WriterBatch { spares.withLockedValue { $0.popLast() } ?? WriterBatch() }

        /// Called on the writer thread once the batch is written.
        func give(_ batch: WriterBatch) {
            batch.bytes.removeAll(keepingCapacity: true)
            spares.withLockedValue { if $0.count < 2 { $0.append(batch) } }
        }
    }
}

/// When a sink that writes through the `LogWriter` hands over what it holds: at once
/// after a short read (an echo, a prompt: the file is current while someone types),
/// otherwise once `batchBytes` are held or `delay` after the burst that began holding.
/// During a firehose a tty wakes the loop for every 4095 bytes; a writer job for each
/// would wake the writer thread as often. On the sink's loop only.
final class BatchTimer: @unchecked Sendable {
    static let batchBytes = 256 << 10
    static let delay = TimeAmount.milliseconds(20)

    private let loop: EventLoop
    private let submit: () -> Void
    private var lastReadWasFull = false
    private var timer: Scheduled<Void>?

    init(loop: EventLoop, submit: @escaping () -> Void) {
        self.loop = loop
        self.submit = submit
    }

    func read(_ count: Int) { lastReadWasFull = count >= ConsoleHub.ttyReadSize }

    /// At the end of a burst, with `held` bytes waiting.
    func burstEnded(held: Int) {
        if !lastReadWasFull || held >= Self.batchBytes {
            cancel()
            submit()
        } else if timer == nil {
            timer = loop.scheduleTask(in: Self.delay) { [self] in
                timer = nil
                submit()
            }
        }
    }

    func cancel() {
        timer?.cancel()
        timer = nil
    }
}
