import CRTTYShims
#if canImport(Glibc)
import Glibc
#endif

/// A plain thread for one blocking loop (a client's keyboard), so it never holds up an
/// event loop or the Swift concurrency pool. `name` is what `top -H`, `ps -L` and perf show
/// (at most 15 bytes); without one the thread keeps its creator's (an event loop's) name.
public final class ReaderThread: @unchecked Sendable {
    private let name: String?
    private let body: @Sendable () -> Void

    public init(name: String? = nil, _ body: @escaping @Sendable () -> Void) {
        self.name = name.map { String(decoding: $0.utf8.prefix(15), as: UTF8.self) }
        self.body = body
    }

    public func start() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        let result = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<ReaderThread>.fromOpaque(raw!).takeRetainedValue()
            if let name = me.name { rtty_set_thread_name(name) }
            me.body()
            return nil
        }, box.toOpaque())
        if result == 0 {
            pthread_detach(thread)
        } else {
            box.release()
        }
    }
}

public enum Signals {
    /// rttyctl reload: the same path as an admin's `kill -HUP`.
    public static func hangUpSelf() {
        _ = try? syscall("kill", "self") { kill(getpid(), SIGHUP) }
    }

    /// A write to a socket the peer closed fails with EPIPE instead of killing us: rttyctl
    /// still reads the refusal a daemon sent before closing.
    public static func ignoreBrokenPipe() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// TERM, HUP and INT unblocked, first thing in every program: a blocked mask is
    /// inherited through exec, and a starter that left them blocked (a thread of a
    /// multi-threaded launcher; the test runner's worker threads block nearly all) made
    /// `kill -TERM` wait forever, neither handled nor the default action.
    public static func unblockTermination() {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGTERM, SIGHUP, SIGINT] { sigaddset(&set, signal) }
        _ = pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// ~^Z: stop ourselves as a shell's Ctrl-Z would.
    public static func stopSelf() {
        _ = try? syscall("kill", "self") { kill(getpid(), SIGTSTP) }
    }
}
