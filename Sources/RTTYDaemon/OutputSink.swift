import NIOCore

/// One consumer of a console's device output. The hub calls these on its event loop only,
/// from the device read path: `append` once per device read, `burstEnded` when the reads
/// of one wake-up are done. A sink owns its buffering and threading; no sink flushes
/// another.
protocol OutputSink: AnyObject {
    func append(_ burst: ByteBuffer)
    func burstEnded()
}
