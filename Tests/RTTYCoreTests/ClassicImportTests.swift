import Testing
@testable import RTTYCore

@Suite struct ClassicImportTests {
    /// startsrv's rule: a console's own opt/NAME.srv if it has anything, else
    /// opt/DEFAULT.srv, else "-b 9600 -w 8 -p none"; one file or the other, never merged.
    @Test func startsrvOptionsBecomeSettings() throws {
        let result = ClassicImport.convert(
            consoles: [
                .init(name: "pbx", device: "/dev/ttyS0", options: "-b 115200 -p even -w 7 -l /var/log/x"),
                .init(name: "util", device: "/dev/ttyUSB1", options: "-R"),
                .init(name: "lab", device: "/dev/ttyS2", options: ""),
                .init(name: "lab2", device: "/dev/ttyS3", options: nil),
            ], defaults: "-b 19200 -p odd\n", root: "/usr/local/rtty")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        let config = try ConfigParser.parse(result.config, file: "imported")
        #expect(config.consoles.map(\.name) == ["lab", "lab2", "pbx", "util"])
        #expect(config.console(named: "pbx")?.settings == LineSettings(baud: 115_200, dataBits: 7, parity: .even))
        // Its own file replaces DEFAULT.srv: 9600 and no parity, not 19200 odd.
        #expect(config.console(named: "util")?.settings == LineSettings(baud: 9600, flow: .rtscts))
        // An empty own file does not count (test -s): DEFAULT.srv applies.
        #expect(config.console(named: "lab")?.settings == LineSettings(baud: 19_200, parity: .odd))
        #expect(config.console(named: "lab2")?.settings == LineSettings(baud: 19_200, parity: .odd))
        if case .device(let path) = config.console(named: "pbx")?.source { #expect(path == "/dev/ttyS0") } else { Issue.record("not a device console") }
    }

    @Test func withoutOptionFilesStartsrvsDefaultsApply() throws {
        let result = ClassicImport.convert(
            consoles: [.init(name: "pbx", device: "/dev/ttyS0", options: nil)], defaults: "", root: "/r")
        let config = try ConfigParser.parse(result.config, file: "imported")
        #expect(config.console(named: "pbx")?.settings == LineSettings(baud: 9600, dataBits: 8, parity: .none))
    }

    /// A device name TOML cannot write bare (a dot, an @) is quoted in its
    /// header, so it stays one console of that name.
    @Test func namesThatNeedQuotesAreQuoted() throws {
        let result = ClassicImport.convert(
            consoles: [.init(name: "lab.1", device: "/dev/ttyS0", options: nil), .init(name: "vm@host1", device: "/dev/ttyS1", options: nil)],
            defaults: "", root: "/r")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        let config = try ConfigParser.parse(result.config, file: "imported")
        #expect(config.consoles.map(\.name) == ["lab.1", "vm@host1"])
    }

    @Test func unsafeOrUnknownThingsAreReportedNotCarried() throws {
        let result = ClassicImport.convert(
            consoles: [
                .init(name: "pbx", device: "/dev/ttyS0", options: "-r pbx-tcp -b fast -Z"),
                .init(name: "bad name", device: "/dev/ttyS1", options: ""),
            ], defaults: "", root: "/r")
        #expect(result.warnings.contains { $0.contains("-r (an unauthenticated TCP listener)") })
        #expect(result.warnings.contains { $0.contains("baud=fast") })
        #expect(result.warnings.contains { $0.contains("unknown option -Z") })
        #expect(result.warnings.contains { $0.contains("dev/bad name skipped") })
        let config = try ConfigParser.parse(result.config, file: "imported")
        #expect(config.consoles.map(\.name) == ["pbx"])
    }
}
