import NIOConcurrencyHelpers
import NIOCore
import RTTYCore
import RTTYSystem
import SystemPackage

/// What a console's listener does when the process is out of file descriptors
/// (RLIMIT_NOFILE) or the system is (ENFILE). Without it the listening socket stays
/// readable and the event loop spins at 100% CPU. With it: one descriptor kept in reserve
/// is freed to accept each waiting client, tell it why in a NOTICE and close it (a client
/// that waits in the backlog with no answer is worse than a refusal), the refusal is
/// logged and audited, and accepting pauses for 250 ms.
final class AcceptGuard: ChannelInboundHandler {
    typealias InboundIn = Channel

    static let notice = "rttyd is out of file descriptors; try again later"
    /// The reserve: /dev/null kept open, shared by every console.
    private static let reserve = NIOLockedValueBox(ReserveDescriptor())

    /// Told how many waiting clients were refused, and the error (logs and audit it).
    private let report: (_ refused: Int, _ error: String) -> Void
    private let listenFD: CInt?

    convenience init(listeners: ConsoleListeners, listenFD: CInt?) {
        self.init(listenFD: listenFD) { listeners.outOfDescriptors(refused: $0, error: $1) }
    }

    init(listenFD: CInt?, report: @escaping (_ refused: Int, _ error: String) -> Void) {
        self.report = report
        self.listenFD = listenFD
        _ = Self.reserve.withLockedValue { $0 }  // opened now, while descriptors are free
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let ioError = error as? IOError, [Errno.tooManyOpenFiles, .tooManyOpenFilesInSystem].contains(Errno(rawValue: ioError.errnoCode)) else {
            context.fireErrorCaught(error)
            return
        }
        let refused = listenFD.map(Self.refuseWaiting) ?? 0
        report(refused, "\(ioError)")
        // Stop accepting for a moment: the socket stays readable while clients wait, and
        // NIO would otherwise try again at once, forever.
        let channel = context.channel
        channel.setOption(ChannelOptions.autoRead, value: false).whenSuccess {
            channel.eventLoop.scheduleTask(in: .milliseconds(250)) {
                channel.setOption(ChannelOptions.autoRead, value: true).whenSuccess { channel.read() }
            }
        }
    }

    /// Accepts and refuses the clients waiting on `fd` with the reserve descriptor freed.
    static func refuseWaiting(on fd: CInt) -> Int {
        reserve.withLockedValue { spare in
            spare.release()
            defer { spare.refill() }
            var refused = 0
            let payload = Array(notice.utf8)
            let frame: [UInt8] = [0, UInt8(Frame.Kind.notice.rawValue), 0, UInt8(payload.count)] + payload
            while refused < 64 {
                // The listening socket is non-blocking (NIO), so this never waits.
                guard let client = try? UnixSocket.accept(from: SystemPackage.FileDescriptor(rawValue: fd)) else { break }
                _ = try? frame.withUnsafeBytes { try client.write($0) }
                try? client.close()
                refused += 1
            }
            return refused
        }
    }
}
