import NIOCore
import RTTYSystem

/// The connecting process's credentials, read through NIO from the accepted socket (the
/// platform's peer-credential option; NIO does not expose the descriptor). The uid is what
/// access decisions use; nothing the client says counts. Fails (closed) when the channel
/// is not a socket or the kernel's answer cannot be decoded.
func peerCredentials(of channel: Channel) -> EventLoopFuture<PeerCredentials> {
    guard let provider = channel as? SocketOptionProvider else {
        return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
    }
    let option = PeerCredentials.socketOption
    return provider.unsafeGetSocketOption(level: SocketOptionLevel(option.level), name: SocketOptionName(option.name))
        .flatMapThrowing { (raw: PeerCredentials.RawOption) in try PeerCredentials(decoding: raw) }
}
