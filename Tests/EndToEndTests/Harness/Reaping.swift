import Foundation
import RTTYSystem

/// Foundation keeps the Pipes of a Process nobody waited for (`waitUntilExit`), with their
/// descriptors, for as long as the test process runs: one run of the suite left 1,428 pipe
/// ends open in it. Past about 1,350 descriptors Foundation's own `Process.run` reads beyond
/// its listing of /proc/self/fd (a toolchain bug, the same 256-byte `d_name` copy that
/// `Files.list` had) and can crash the whole suite, as it did in CI. So every program the
/// harness starts is started with `start()` and ended with `reap(...)`.
extension Process {
    /// The test process may hold at most this many descriptors when it starts a program.
    static let descriptorBudget = 1_000

    /// `run()`, after checking the test process is far from the count Foundation crashes at:
    /// a leak then fails here, naming itself, instead of crashing an unrelated test.
    func start() throws {
        let held = (try? Files.list("/proc/self/fd").count) ?? 0
        guard held <= Self.descriptorBudget else {
            throw HarnessError("the test process holds \(held) descriptors (budget \(Self.descriptorBudget)): a harness leak; Foundation's Process.run can crash past about 1,350")
        }
        try run()
    }

    /// Waits for the program (ended or killed) and closes this side of its pipes.
    func reap(_ pipes: Pipe...) {
        waitUntilExit()
        for pipe in pipes {
            pipe.fileHandleForReading.readabilityHandler = nil
            try? pipe.fileHandleForReading.close()
            try? pipe.fileHandleForWriting.close()
        }
    }
}

/// What a program writes to one of its pipes, collected as it comes by the pipe's
/// readability handler. The handler holds only this, never the object that owns the
/// program: had it held that (even weakly, made strong for the call), the owner's last
/// release could happen inside the handler, and its `reap` would then wait on the
/// handler's own queue (Dispatch traps: seen in CI).
final class PipeOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    init(_ pipe: Pipe) {
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let chunk = handle.availableData
            guard !chunk.isEmpty else { return }
            lock.lock()
            data.append(chunk)
            lock.unlock()
        }
    }

    var bytes: Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
