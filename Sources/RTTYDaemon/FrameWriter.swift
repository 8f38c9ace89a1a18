import NIOCore
import RTTYCore

/// Builds wire frames into ByteBuffers. Device output is framed once per read and the same
/// buffer is written to every client of that kind (classic or rtty/1).
enum FrameWriter {
    static func frame(_ frame: Frame, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: Frame.headerSize + frame.payload.count)
        buffer.writeInteger(frame.flagsAndType)
        buffer.writeInteger(frame.value)
        buffer.writeBytes(frame.payload)
        return buffer
    }

    /// A NOTICE, cut to what a classic client can hold.
    static func notice(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        frame(.withPayload(.notice, Array(text.utf8.prefix(Frame.classicMaxPayload))), allocator: allocator)
    }

    /// A NOTICE built once for a broadcast; only ClientSession decides who gets it.
    struct Notice {
        fileprivate(set) var buffer: ByteBuffer

        init(_ text: String, allocator: ByteBufferAllocator) {
            buffer = FrameWriter.notice(text, allocator: allocator)
        }
    }

    /// `bytes` appended to `out` as consecutive DATA frames of at most `maxPayload` bytes each.
    static func appendData(_ bytes: ByteBufferView, maxPayload: Int, to out: inout ByteBuffer) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = min(start + maxPayload, bytes.endIndex)
            out.writeInteger(UInt16(Frame.Kind.data.rawValue))
            out.writeInteger(UInt16(end - start))
            out.writeBytes(bytes[start..<end])
            start = end
        }
    }
}
