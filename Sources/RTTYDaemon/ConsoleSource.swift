import Logging
import NIOCore
import NIOPosix
import RTTYCore
import RTTYSystem
import SystemPackage

/// What is open for a console: the NIO channel carrying its bytes, plus what NIO does not
/// expose: a descriptor for termios and BREAK (devices, exec ptys) and the child (exec).
struct OpenSource {
    var channel: Channel
    var control: SystemPackage.FileDescriptor?
    var child: Int32?
}

/// Reopen delays after a device is lost: 0.5 s doubling to 30 s. The delay resets only when
/// the device stayed up for a while, so a command that dies at once is not re-run in a
/// tight loop.
struct SourceBackoff {
    static let first = 0.5
    static let limit = 30.0
    static let stableAfter = 5.0
    private(set) var next = SourceBackoff.first

    mutating func failed() -> Double {
        let delay = next
        next = min(next * 2, SourceBackoff.limit)
        return delay
    }

    mutating func wasUp(for seconds: Double) {
        if seconds >= SourceBackoff.stableAfter { next = SourceBackoff.first }
    }

    /// The source just appeared (ConsoleHub+Watch.swift): retry quickly, doubling from
    /// 50 ms, while it is not ready yet (a socket bound but not listening).
    static let quick = 0.05
    mutating func appeared() { next = SourceBackoff.quick }
}

/// Passes device output to the console and reports its loss (EIO from a closed pty, EOF
/// from a socket, hang-up of a serial line).
final class DeviceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let hub: ConsoleHub
    private var lossReason: String?

    init(hub: ConsoleHub) {
        self.hub = hub
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        hub.deviceOutput(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        hub.deviceOutputComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        hub.supervisor.writabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let io = error as? IOError, io.errnoCode == Errno.ioError.rawValue {
            lossReason = "hang-up (EIO)"
        } else {
            lossReason = "\(error)"
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        hub.supervisor.closed(context.channel, reason: lossReason ?? "end of file")
        context.fireChannelInactive()
    }
}

