/// `rttyctl import-classic`: rtty.conf from a classic rtty tree. The classic layout has
/// `dev/NAME` (a symlink to the tty), `sock/NAME` (the socket), `log/NAME` (the log), and
/// the options `startsrv` gave `ttysrv`: `opt/NAME.srv` if that file is not empty, else
/// `opt/DEFAULT.srv` if that is not empty, else `-b 9600 -w 8 -p none`. One file or the
/// other, never both merged (startsrv.sh). The options: `-b baud`, `-p parity`,
/// `-w wordsize`, `-R` (RTS/CTS). Options the new daemon handles itself (`-t`, `-s`, `-l`,
/// `-i`, `-x`) are dropped, and `-r` (an unauthenticated TCP listener) is reported, not
/// carried over.
public enum ClassicImport {
    /// What startsrv used when neither options file had anything.
    public static let startsrvDefaults = "-b 9600 -w 8 -p none"

    public struct Console: Sendable {
        public var name: String
        public var device: String
        /// The text of `opt/NAME.srv` (empty or nil when the file is empty or missing).
        public var options: String?
        public init(name: String, device: String, options: String?) {
            self.name = name
            self.device = device
            self.options = options
        }
    }

    public struct Result: Sendable {
        public var config: String
        public var warnings: [String]
    }

    /// `defaults` is the text of `opt/DEFAULT.srv` (nil or empty when missing or empty).
    public static func convert(consoles: [Console], defaults: String?, root: String) -> Result {
        var warnings: [String] = []
        var text = """
            # rtty.conf written by `rttyctl import-classic \(root)`. Check it with
            # `rttyd --check-config --config FILE`, then install it as /etc/rtty/rtty.conf.
            # The classic sock/ and log/ directories are replaced by [paths] below.

            [paths]
            socket_dir = "/run/rtty"
            log_dir = "/var/log/rtty"

            [defaults]
            group = "rtty"

            """
        let (defaultOptions, defaultSource) = chosen(defaults, "opt/DEFAULT.srv") ?? (startsrvDefaults, "startsrv's defaults")
        let base = settings(defaultOptions, warnings: &warnings, what: defaultSource)
        for line in lines(base, against: LineSettings(), always: true) { text += line + "\n" }
        for console in consoles.sorted(by: { $0.name < $1.name }) {
            if let problem = ConsoleName.problem(console.name) {
                warnings.append("dev/\(console.name) skipped: \(problem)")
                continue
            }
            // A console's own file replaces the defaults, as startsrv did.
            let own = chosen(console.options, "opt/\(console.name).srv").map { settings($0.0, warnings: &warnings, what: $0.1) } ?? base
            // A name TOML cannot write bare ("lab.1", "café") is quoted, as one key.
            let key = console.name.unicodeScalars.allSatisfy(TOMLKeyPath.isBare) ? console.name : JSON.quote(console.name)
            text += "\n[console.\(key)]\ndevice = \(JSON.quote(console.device))\n"
            for line in lines(own, against: base) { text += line + "\n" }
        }
        return Result(config: text, warnings: warnings)
    }

    /// The options text and where it came from, if the file had anything (`test -s`).
    private static func chosen(_ text: String?, _ file: String) -> (String, String)? {
        guard let text, !text.isEmpty else { return nil }
        return (text, file)
    }

    private static func settings(_ options: String, warnings: inout [String], what: String) -> LineSettings {
        var settings = LineSettings()
        apply(options, to: &settings, warnings: &warnings, what: what)
        return settings
    }

    private static func apply(_ options: String, to settings: inout LineSettings, warnings: inout [String], what: String) {
        // Words as sh saw them: split by scalar at blanks and line ends (CRLF files too).
        let words = TextLines.split(options).flatMap(TextLines.fields)
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            let key: String
            switch word {
            case "-b": key = "baud"
            case "-p": key = "parity"
            case "-w": key = "data"
            case "-R":
                settings.flow = .rtscts
                continue
            case "-r":
                warnings.append("\(what): -r (an unauthenticated TCP listener) is not carried over; rtty serves consoles over ssh")
                index += 1
                continue
            case "-t", "-s", "-l", "-i", "-x":
                index += 1  // rttyd sets these itself
                continue
            default:
                warnings.append("\(what): unknown option \(word) ignored")
                continue
            }
            guard index < words.count else {
                warnings.append("\(what): \(word) needs a value")
                break
            }
            do {
                try settings.set(key, words[index])
            } catch {
                warnings.append("\(what): \(error)")
            }
            index += 1
        }
    }

    /// The settings that differ from `base` (and the baud anyway when `always`).
    private static func lines(_ settings: LineSettings, against base: LineSettings, always: Bool = false) -> [String] {
        var out: [String] = []
        if settings.baud != base.baud || always { out.append("baud = \(settings.baud)") }
        if settings.dataBits != base.dataBits { out.append("data_bits = \(settings.dataBits)") }
        if settings.parity != base.parity { out.append("parity = \"\(settings.parity.rawValue)\"") }
        if settings.flow != base.flow { out.append("flow = \"\(settings.flow.rawValue)\"") }
        return out
    }
}
