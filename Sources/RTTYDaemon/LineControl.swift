import NIOCore
import RTTYCore
import RTTYSystem
import SystemPackage

/// One console's line: its settings, BREAK (one at a time), an exec console's window
/// size, the modem lines and RFC 2217's COM-PORT-OPTION answers. State private, on the
/// console's loop. Who may change the line, and who is told, is the hub's to decide
/// (ConsoleHub+Requests.swift); this holds the line and does the device calls.
/// Sendable only so that the end of a BREAK, scheduled on the loop, can reach it.
final class LineControl: @unchecked Sendable {
    static let breakDuration = TimeAmount.milliseconds(300)

    private(set) var settings: LineSettings
    /// The window size a client last gave an exec console, kept for its next run.
    private(set) var windowSize: (rows: Int, cols: Int)?
    /// The line carries one BREAK at a time.
    private var breakInProgress = false

    init(settings: LineSettings) {
        self.settings = settings
    }

    /// A reload gave the line new settings (applied when the source is next opened).
    func reset(to settings: LineSettings) {
        self.settings = settings
    }

    /// A new command starts at its configured size.
    func forgetWindowSize() { windowSize = nil }

    /// Applies "key=value ..." to the line of `console`: nil when applied, else why not.
    /// Without an open device the settings are kept for its next open.
    func apply(_ text: String, console: Config.Console, fd: SystemPackage.FileDescriptor?) -> String? {
        let updated: LineSettings
        do {
            updated = try settings.applying(text)
        } catch {
            return "bad setting \(error)"
        }
        guard case .device(let path) = console.source else {
            return "console \(console.name) is not a serial line (\(console.source.kind)); it has no line settings"
        }
        if let fd {
            do {
                try Termios.configureLine(fd, updated)
                settings = (try? Termios.currentSettings(fd)) ?? updated
            } catch {
                return "cannot apply \(text) to \(path): \(error)"
            }
        } else {
            settings = updated  // applied when the device is reopened
        }
        return nil
    }

    enum BreakStart: Equatable {
        case started
        /// One is on the line: this one was dropped (it could only have lengthened it).
        case busy
        case failed(String)
    }

    /// A timed BREAK of `breakDuration`, ended on `loop`.
    func startBreak(_ fd: SystemPackage.FileDescriptor, on loop: EventLoop) -> BreakStart {
        guard !breakInProgress else { return .busy }
        do {
            try LineBreak.start(fd)
        } catch {
            return .failed("\(error)")
        }
        breakInProgress = true
        loop.scheduleTask(in: Self.breakDuration) {
            LineBreak.stop(fd)
            self.breakInProgress = false
        }
        return .started
    }

    /// An exec console's pty gets the client's window size; nil, or why not.
    func resize(_ fd: SystemPackage.FileDescriptor, rows: Int, cols: Int) -> String? {
        guard (1...1000).contains(rows), (1...1000).contains(cols) else { return "window size \(rows)x\(cols) out of range" }
        try? Termios.setWindowSize(fd, rows: rows, cols: cols)
        windowSize = (rows, cols)
        return nil
    }

    // MARK: RFC 2217

    /// What one telnet client's request may do, decided by the hub: whether it may write
    /// `what`, a setting change (told and refused there), a BREAK (true: one went on the line).
    struct Requester {
        let mayWrite: (_ what: String) -> Bool
        let change: (_ setting: String) -> Void
        let sendBreak: () -> Bool
    }

    /// Carries out one COM-PORT-OPTION request; returns the server's reply (RFC 2217: the
    /// value now in effect).
    func comPort(_ request: ComPort.Request, fd: SystemPackage.FileDescriptor?, console: String, by client: Requester) -> [UInt8] {
        switch request {
        case .signature:
            return ComPort.reply(ComPort.Code.signature, Array("\(RTTYVersion.string) console \(console)".utf8))
        case .setBaud(let baud):
            if baud != 0 { client.change("baud=\(baud)") }
            return ComPort.reply(ComPort.Code.setBaud, ComPort.baudBytes(settings.baud))
        case .setDataSize(let size):
            if size != 0 { client.change("data=\(size)") }
            return ComPort.reply(ComPort.Code.setDataSize, [UInt8(settings.dataBits)])
        case .setParity(let value):
            if value != 0, let parity = ComPort.parity(value) { client.change("parity=\(parity.rawValue)") }
            return ComPort.reply(ComPort.Code.setParity, [ComPort.parityValue(settings.parity)])
        case .setStopSize(let value):
            if value == 1 || value == 2 { client.change("stop=\(value)") }
            return ComPort.reply(ComPort.Code.setStopSize, [UInt8(settings.stopBits)])
        case .setControl(let value):
            return ComPort.reply(ComPort.Code.setControl, [control(value, fd: fd, by: client)])
        case .notifyLineState:
            // Transmit holding and shift registers empty: nothing is held back.
            return ComPort.reply(ComPort.Code.notifyLineState, [0x60])
        case .notifyModemState:
            return ComPort.reply(ComPort.Code.notifyModemState, [modemState(fd)])
        case .flowSuspend, .flowResume:
            return []
        case .setLineStateMask(let mask):
            return ComPort.reply(ComPort.Code.setLineStateMask, [mask])
        case .setModemStateMask(let mask):
            return ComPort.reply(ComPort.Code.setModemStateMask, [mask])
        case .purge(let which):
            if let fd, client.mayWrite("purge"), (1...3).contains(which) {
                ModemLines.purge(fd, input: which != 2, output: which != 1)
            }
            return ComPort.reply(ComPort.Code.purge, [which])
        }
    }

    /// SET-CONTROL: flow control, BREAK, DTR and RTS, each answered with the state it left
    /// (RFC 2217), so a refused change (a read-only session, a device that is down) is
    /// answered with what the line kept. Lines a device does not have (a pty) are answered
    /// as asked when the change was allowed: there is nothing to contradict.
    private func control(_ value: UInt8, fd: SystemPackage.FileDescriptor?, by client: Requester) -> UInt8 {
        typealias C = ComPort.Control
        let lines = fd.flatMap(ModemLines.get)
        switch value {
        case C.queryFlow:
            return settings.flow == .none ? C.noFlow : settings.flow == .xonxoff ? C.xonXoff : C.hardware
        case C.noFlow, C.xonXoff, C.hardware:
            client.change("flow=\(value == C.noFlow ? "none" : value == C.xonXoff ? "xonxoff" : "rtscts")")
            return control(C.queryFlow, fd: fd, by: client)
        case C.queryBreak, C.breakOff:
            return C.breakOff
        case C.breakOn:
            // A timed BREAK, so BREAK-OFF is true again by itself. BREAK-ON only when this
            // request put one on the line: a refused or dropped one (one at a time) did not.
            return client.sendBreak() ? C.breakOn : C.breakOff
        case C.queryDTR:
            return lines.map { $0.dtr ? C.dtrOn : C.dtrOff } ?? C.dtrOn
        case C.queryRTS:
            return lines.map { $0.rts ? C.rtsOn : C.rtsOff } ?? C.rtsOn
        case C.dtrOn, C.dtrOff, C.rtsOn, C.rtsOff:
            let dtr = value == C.dtrOn || value == C.dtrOff
            let query = dtr ? C.queryDTR : C.queryRTS
            guard let fd, client.mayWrite(dtr ? "DTR" : "RTS") else { return control(query, fd: fd, by: client) }
            let raise = value == C.dtrOn || value == C.rtsOn
            ModemLines.set(fd, dtr: dtr ? raise : nil, rts: dtr ? nil : raise)
            return ModemLines.get(fd) == nil ? value : control(query, fd: fd, by: client)
        case 13:
            return 14  // inbound flow control: none separate from the outbound setting
        default:
            return value
        }
    }

    /// NOTIFY-MODEMSTATE bits: CD 0x80, RI 0x40, DSR 0x20, CTS 0x10. A device without modem
    /// lines reports carrier, DSR and CTS while it is up.
    private func modemState(_ fd: SystemPackage.FileDescriptor?) -> UInt8 {
        guard let fd else { return 0 }
        guard let lines = ModemLines.get(fd) else { return 0xB0 }
        return (lines.carrier ? 0x80 : 0) | (lines.ring ? 0x40 : 0) | (lines.dsr ? 0x20 : 0) | (lines.cts ? 0x10 : 0)
    }
}
