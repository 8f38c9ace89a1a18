import Foundation
import RTTYCore
import Testing

/// `rttyctl import-classic` on a classic tree laid out as startsrv.sh reads it.
@Suite struct ImportClassicTests {
    @Test func readsOptSrvFilesOneOrTheOtherAsStartsrvDid() throws {
        let env = try TestEnvironment()
        let files = FileManager.default
        for dir in ["dev", "opt", "prot", "sock", "log"] {
            try files.createDirectory(atPath: env.root + "/" + dir, withIntermediateDirectories: true)
        }
        for (name, device) in [("pbx", "/dev/ttyS0"), ("util", "/dev/ttyUSB1"), ("lab", "/dev/ttyS2")] {
            try files.createSymbolicLink(atPath: env.root + "/dev/" + name, withDestinationPath: device)
        }
        try "-b 115200 -w 7 -p even\n".write(toFile: env.root + "/opt/pbx.srv", atomically: true, encoding: .utf8)
        try "-b 38400 -R\n".write(toFile: env.root + "/opt/DEFAULT.srv", atomically: true, encoding: .utf8)
        try "".write(toFile: env.root + "/opt/lab.srv", atomically: true, encoding: .utf8)
        try "-b 300\n".write(toFile: env.root + "/opt/util", atomically: true, encoding: .utf8)
        try "ug=rw,o=\n".write(toFile: env.root + "/prot/pbx.sock", atomically: true, encoding: .utf8)
        let run = try ProcessRun.run(BuiltProducts.path("rttyctl"), ["import-classic", env.root], input: "")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let config = try ConfigParser.parse(run.stdout, file: "imported")
        #expect(config.consoles.map(\.name) == ["lab", "pbx", "util"])
        // pbx has its own file: DEFAULT.srv's -R does not join it.
        #expect(config.console(named: "pbx")?.settings == LineSettings(baud: 115_200, dataBits: 7, parity: .even))
        // util has no .srv (opt/util is not a startsrv file) and lab an empty one: DEFAULT.srv.
        #expect(config.console(named: "util")?.settings == LineSettings(baud: 38_400, flow: .rtscts))
        #expect(config.console(named: "lab")?.settings == LineSettings(baud: 38_400, flow: .rtscts))
        #expect(run.stderr.contains("opt/util ignored: startsrv reads opt/util.srv"), "stderr: \(run.stderr)")
        #expect(run.stderr.contains("prot/pbx.sock not carried over"), "stderr: \(run.stderr)")
    }
}
