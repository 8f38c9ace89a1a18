import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// The built `rtty` client against the built daemon, as scripts and users run it.
@Suite struct ClientTests {
    typealias Run = ProcessRun

    /// Runs rtty with `input` on a pipe as its stdin.
    static func rtty(_ arguments: [String], input: String, timeout: Double = 20, executable: String? = nil) throws -> Run {
        try ProcessRun.run(executable ?? BuiltProducts.path("rtty"), arguments, input: input, timeout: timeout)
    }

    @Test func pipedInputReachesTheDeviceAndOutputComesBack() throws {
        let env = try TestEnvironment()
        try env.writeConfig(
            """
            [console.sh]
            exec = ["/bin/sh", "-c", "while read line; do echo \\"answer:$line\\"; done"]
            """)
        let daemon = try DaemonProcess(env)
        try daemon.waitForLog("source open")
        let run = try Self.rtty(["--socket-dir", env.socketDir, "--timeout", "2", "sh"], input: "question\n")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("answer:question"))
    }

    @Test func listShowsConsolesWithState() throws {
        let env = try TestEnvironment()
        let guest = try PtyGuest()
        try env.writeConfig(
            """
            [console.up1]
            device = "\(guest.devicePath)"
            [console.down1]
            device = "\(env.root)/missing"
            """)
        let daemon = try DaemonProcess(env)
        try daemon.waitForSockets(["up1", "down1"])
        try daemon.waitForLog("source open")
        let run = try Self.rtty(["--socket-dir", env.socketDir], input: "")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.contains { $0.contains("up1") && $0.contains("up") })
        #expect(lines.contains { $0.contains("down1") && $0.contains("down") })
        #expect(!run.stdout.contains("control"))
    }

    @Test func readOnlyClientCannotType() throws {
        let rig = try PtyConsoleRig()
        let (env, guest, daemon) = (rig.env, rig.guest, rig.daemon)
        let run = try Self.rtty(["--socket-dir", env.socketDir, "-r", "--timeout", "1", "pbx"], input: "forbidden\n")
        // The input was not delivered: said, and a failure for the script that piped it.
        #expect(run.status == 1, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("read-only session: input refused"), "\(run.stderr)")
        #expect(run.stderr.contains("10 bytes of input were not typed into console pbx: the session is read-only"), "\(run.stderr)")
        #expect(try !guest.received("forbidden", beforeMarkerTypedOn: env.socket("pbx")))
    }


    /// rtty on a terminal, typed at key by key: after `~?`, `~qV` and a cancelled `~sp` the
    /// client is back at line start, so `~.` leaves, and not one byte of the escapes
    /// reaches the device (counted between two marks).
    @Test func escapesAfterEscapesStillLeaveAndTypeNothing() throws {
        let rig = try PtyConsoleRig()
        let rtty = try TerminalProcess(BuiltProducts.path("rtty"), ["--socket-dir", rig.env.socketDir, "pbx"])
        try rtty.waitForOutput("~? for help")
        try rtty.type("mark-one\r")
        try rig.guest.waitFor("mark-one\r")
        try rtty.type("~?")
        try rtty.waitForOutput("rtty escapes")
        try rtty.type("~qV")
        try rtty.waitForOutput("rttyd ")
        try rtty.type("~sp\u{1B}")
        try rtty.waitForOutput("(cancelled)")
        try rtty.type("~.")
        #expect(try rtty.waitForExit() == 0, "terminal: \(rtty.output.debugDescription)")
        // The second mark, from another client: the device holds the two marks and nothing between.
        let other = try rig.client()
        try other.type("mark-two\r")
        try rig.guest.waitFor("mark-two\r")
        #expect(rig.guest.receivedText == "mark-one\rmark-two\r")
    }
}
