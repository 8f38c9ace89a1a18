#if canImport(Glibc)
import Glibc
#endif
import CRTTYShims
import RTTYCore
import SystemPackage

/// What the client restores when it leaves raw mode.
public struct SavedTerminal: Sendable {
    let fd: CInt
    let attributes: termios
}

/// Line settings of ttys: raw mode, speed (any rate the driver takes), framing, flow.
public enum Termios {
    /// Raw mode, receiver on, modem lines ignored, reads return as soon as a byte is in,
    /// then the given settings.
    public static func configureLine(_ fd: FileDescriptor, _ settings: LineSettings) throws(SystemError) {
        var t = termios()
        try syscall("tcgetattr", "fd \(fd.rawValue)") { tcgetattr(fd.rawValue, &t) }
        cfmakeraw(&t)
        t.c_cflag &= ~(tcflag_t(CSIZE) | tcflag_t(PARENB) | tcflag_t(PARODD) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
        t.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD) | dataBitsFlag(settings.dataBits)
        if settings.parity != .none { t.c_cflag |= tcflag_t(PARENB) }
        if settings.parity == .odd { t.c_cflag |= tcflag_t(PARODD) }
        if settings.stopBits == 2 { t.c_cflag |= tcflag_t(CSTOPB) }
        t.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        switch settings.flow {
        case .none: break
        case .rtscts: t.c_cflag |= tcflag_t(CRTSCTS)
        case .xonxoff: t.c_iflag |= tcflag_t(IXON) | tcflag_t(IXOFF)
        }
        setControlCharacter(&t, VMIN, 1)
        setControlCharacter(&t, VTIME, 0)
        // A rate from the classic table goes through termios; anything else through the
        // platform's custom-rate call once the rest is set.
        let standard = PlatformSpeed.standard(settings.baud)
        cfsetspeed(&t, standard ?? PlatformSpeed.placeholder)
        rtty_input_speed_follows_output(&t.c_cflag)
        try syscall("tcsetattr", "fd \(fd.rawValue)") { tcsetattr(fd.rawValue, TCSANOW, &t) }
        if standard == nil {
            try syscall("set speed \(settings.baud) on", "fd \(fd.rawValue)") {
                rtty_set_custom_speed(fd.rawValue, UInt32(settings.baud))
            }
        }
    }

    /// What the driver holds now, read back from it.
    public static func currentSettings(_ fd: FileDescriptor) throws(SystemError) -> LineSettings {
        var t = termios()
        try syscall("tcgetattr", "fd \(fd.rawValue)") { tcgetattr(fd.rawValue, &t) }
        var settings = LineSettings()
        settings.baud = Int(try syscall("read speed of", "fd \(fd.rawValue)") { rtty_get_speed(fd.rawValue) })
        switch t.c_cflag & tcflag_t(CSIZE) {
        case tcflag_t(CS5): settings.dataBits = 5
        case tcflag_t(CS6): settings.dataBits = 6
        case tcflag_t(CS7): settings.dataBits = 7
        default: settings.dataBits = 8
        }
        if t.c_cflag & tcflag_t(PARENB) != 0 {
            settings.parity = t.c_cflag & tcflag_t(PARODD) != 0 ? .odd : .even
        }
        settings.stopBits = t.c_cflag & tcflag_t(CSTOPB) != 0 ? 2 : 1
        if t.c_cflag & tcflag_t(CRTSCTS) != 0 {
            settings.flow = .rtscts
        } else if t.c_iflag & tcflag_t(IXON) != 0 {
            settings.flow = .xonxoff
        }
        return settings
    }

    /// The input speed the driver holds (a line is never set to split speeds by rtty).
    public static func inputSpeed(_ fd: FileDescriptor) throws(SystemError) -> Int {
        Int(try syscall("read input speed of", "fd \(fd.rawValue)") { rtty_get_input_speed(fd.rawValue) })
    }

    public static func isTerminal(_ fd: FileDescriptor) -> Bool { isatty(fd.rawValue) == 1 }

    /// Raw mode for an interactive client's terminal; returns what `restore` puts back.
    public static func makeRaw(_ fd: FileDescriptor) throws(SystemError) -> SavedTerminal {
        var t = termios()
        try syscall("tcgetattr", "fd \(fd.rawValue)") { tcgetattr(fd.rawValue, &t) }
        let saved = SavedTerminal(fd: fd.rawValue, attributes: t)
        cfmakeraw(&t)
        try syscall("tcsetattr", "fd \(fd.rawValue)") { tcsetattr(fd.rawValue, TCSAFLUSH, &t) }
        return saved
    }

    /// Echo off (for passwords); nil when `fd` is not a terminal.
    public static func disableEcho(_ fd: FileDescriptor) -> SavedTerminal? {
        var t = termios()
        guard (try? syscall("tcgetattr", "fd \(fd.rawValue)", { tcgetattr(fd.rawValue, &t) })) != nil else { return nil }
        let saved = SavedTerminal(fd: fd.rawValue, attributes: t)
        t.c_lflag &= ~tcflag_t(ECHO)
        _ = try? syscall("tcsetattr", "fd \(fd.rawValue)") { tcsetattr(fd.rawValue, TCSAFLUSH, &t) }
        return saved
    }

    /// Best effort; safe to call more than once.
    public static func restore(_ saved: SavedTerminal) {
        var t = saved.attributes
        _ = try? syscall("tcsetattr", "fd \(saved.fd)") { tcsetattr(saved.fd, TCSAFLUSH, &t) }
    }

    public static func windowSize(_ fd: FileDescriptor) -> (rows: Int, cols: Int)? {
        var ws = winsize()
        guard (try? syscall("read window size of", "fd \(fd.rawValue)", { ioctl(fd.rawValue, UInt(TIOCGWINSZ), &ws) })) != nil, ws.ws_row > 0 else { return nil }
        return (Int(ws.ws_row), Int(ws.ws_col))
    }

    public static func setWindowSize(_ fd: FileDescriptor, rows: Int, cols: Int) throws(SystemError) {
        try syscall("set window size on", "fd \(fd.rawValue)") {
            rtty_set_window_size(fd.rawValue, UInt16(clamping: rows), UInt16(clamping: cols))
        }
    }

    private static func dataBitsFlag(_ bits: Int) -> tcflag_t {
        switch bits {
        case 5: return tcflag_t(CS5)
        case 6: return tcflag_t(CS6)
        case 7: return tcflag_t(CS7)
        default: return tcflag_t(CS8)
        }
    }

    private static func setControlCharacter(_ t: inout termios, _ index: Int32, _ value: cc_t) {
        withUnsafeMutableBytes(of: &t.c_cc) { $0[Int(index)] = value }
    }
}
