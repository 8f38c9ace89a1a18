import Testing
@testable import RTTYCore

@Suite struct ClassicImportTests {
    @Test func startsrvOptionsBecomeSettings() throws {
        let result = ClassicImport.convert(
            consoles: [
                .init(name: "pbx", device: "/dev/ttyS0", options: "-b 115200 -p even -w 7 -l /var/log/x"),
                .init(name: "util", device: "/dev/ttyUSB1", options: "-R"),
                .init(name: "lab", device: "/dev/ttyS2", options: ""),
            ], defaults: "-b 19200\n", root: "/usr/local/rtty")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        let config = try ConfigParser.parse(result.config, file: "imported")
        #expect(config.consoles.map(\.name) == ["lab", "pbx", "util"])
        #expect(config.console(named: "pbx")?.settings == LineSettings(baud: 115_200, dataBits: 7, parity: .even))
        #expect(config.console(named: "util")?.settings == LineSettings(baud: 19_200, flow: .rtscts))
        #expect(config.console(named: "lab")?.settings.baud == 19_200)
        if case .device(let path) = config.console(named: "pbx")?.source { #expect(path == "/dev/ttyS0") } else { Issue.record("not a device console") }
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
