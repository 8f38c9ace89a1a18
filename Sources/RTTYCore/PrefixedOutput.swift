/// The output of several consoles on one terminal (`rtty --broadcast`): each console's
/// name at the start of each of its lines. Output of one console that interrupts another's
/// unfinished line ends that line first; the interrupted console's next bytes get its
/// name again. Bytes in are already made inert for a terminal (`TerminalFilter`); the
/// names are console names, shown escaped.
public struct PrefixedOutput: Sendable {
    /// The console whose line is open on the terminal (output since its last LF).
    private var open: String?

    public init() {}

    public mutating func feed(_ console: String, _ bytes: some Collection<UInt8>) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out: [UInt8] = []
        if open != console {
            if open != nil { out += [13, 10] }
            out += Self.prefix(console)
            open = console
        }
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            out.append(byte)
            index = bytes.index(after: index)
            if byte == 10 {
                if index == bytes.endIndex { open = nil } else { out += Self.prefix(console) }
            }
        }
        return out
    }

    /// A line of our own (a notice) is about to be written: end an open console line.
    public mutating func interrupt() -> [UInt8] {
        guard open != nil else { return [] }
        open = nil
        return [13, 10]
    }

    static func prefix(_ console: String) -> [UInt8] { Array((TerminalText.escaped(console) + ": ").utf8) }
}
