#if canImport(Glibc)
import Glibc
#endif

/// A plain thread for one blocking loop (a client's keyboard), so it never holds up an
/// event loop or the Swift concurrency pool.
public final class ReaderThread: @unchecked Sendable {
    private let body: @Sendable () -> Void

    public init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
    }

    public func start() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        let result = pthread_create(&thread, nil, { raw in
            let me = Unmanaged<ReaderThread>.fromOpaque(raw!).takeRetainedValue()
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

    /// ~^Z: stop ourselves as a shell's Ctrl-Z would.
    public static func stopSelf() {
        _ = try? syscall("kill", "self") { kill(getpid(), SIGTSTP) }
    }
}
