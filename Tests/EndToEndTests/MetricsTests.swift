import Foundation
import RTTYCore
import RTTYSystem
import Testing

/// `[control] metrics`: a real scrape passes Debian's `promtool check metrics`, the values
/// move with what happens on the console (output, input, attach and detach, device loss and
/// return, a refused user), and a hostile scraper gets nothing but a closed connection.
@Suite(.serialized) struct MetricsTests {
    static let promtool = "/usr/bin/promtool"
    static let enabled =
        (FileManager.default.isExecutableFile(atPath: promtool) || ProcessInfo.processInfo.environment["CI"] == "true")
        && Socat.executable != nil && AccessTests.needsRoot

    struct Rig {
        let env: TestEnvironment
        let port: Int
        let daemon: DaemonProcess
        var line: Socat?
        var device: String { env.root + "/ttyDEV" }
        var guest: String { env.root + "/ttyGUEST" }

        init(metrics: String? = nil) throws {
            env = try TestEnvironment()
            port = try SSHRig.freePort()
            try "someoneelse * rw\n".write(toFile: env.root + "/access", atomically: true, encoding: .utf8)
            let root = env.root
            line = try Socat(Socat.ptyPair(device: root + "/ttyDEV", guest: root + "/ttyGUEST"))
            try waitUntil(timeout: 5, "socat's pty links") { FileManager.default.fileExists(atPath: root + "/ttyGUEST") }
            try env.writeConfig(
                """
                [console.pbx]
                device = "\(env.root)/ttyDEV"
                group = "\(Accounts.groupName(65534) ?? "nogroup")"

                [control]
                metrics = "\(metrics ?? "127.0.0.1:\(port)")"
                """)
            daemon = try DaemonProcess(env)
            try daemon.waitForLog("source open")
            try daemon.waitForLog("metrics at")
        }

        /// One whole scrape: status line and headers, body.
        func scrape(_ request: String = "GET /metrics HTTP/1.1\r\nHost: rtty\r\n\r\n") throws -> (head: String, body: String) {
            let client = try TCPClient(port: port)
            try client.write(Array(request.utf8))
            try client.waitForClose(timeout: 10)
            let text = String(decoding: client.received, as: UTF8.self)
            guard let split = text.range(of: "\r\n\r\n") else { throw HarnessError("no HTTP answer: \(text.debugDescription)") }
            return (String(text[..<split.lowerBound]), String(text[split.upperBound...]))
        }

        /// `name{labels}` -> value of every sample.
        func values() throws -> [String: Double] {
            let (head, body) = try scrape()
            #expect(head.hasPrefix("HTTP/1.1 200 OK"), "\(head)")
            var out: [String: Double] = [:]
            for line in body.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let value = Double(parts[1]) { out[String(parts[0])] = value }
            }
            return out
        }

        func value(_ name: String) throws -> Double {
            let key = name.hasPrefix("process_") || name.hasPrefix("rtty_reloads") || name.hasPrefix("rtty_audit") ? name : name + "{console=\"pbx\"}"
            return try #require(try values()[key], "\(key) in the scrape")
        }

        func writeGuest(_ bytes: [UInt8]) throws {
            let handle = try #require(FileHandle(forWritingAtPath: guest))
            handle.write(Data(bytes))
            try handle.close()
        }
    }

    @Test(.enabled(if: enabled)) func aRealScrapePassesPromtool() throws {
        let rig = try Rig()
        let (head, body) = try rig.scrape()
        #expect(head.hasPrefix("HTTP/1.1 200 OK") && head.contains("Content-Type: text/plain; version=0.0.4"), "\(head)")
        let file = rig.env.root + "/scrape.txt"
        try body.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try ProcessRun.run("/bin/sh", ["-c", "\(Self.promtool) check metrics < \(file)"], input: "")
        #expect(check.status == 0 && check.stdout.isEmpty && check.stderr.isEmpty, "promtool: \(check.stdout) \(check.stderr)\n\(body)")
        for name in [
            "rtty_console_device_read_bytes_total", "rtty_console_device_written_bytes_total", "rtty_console_clients", "rtty_console_device_up",
            "rtty_console_reopens_total", "rtty_console_output_idle_seconds", "rtty_console_sessions_total", "rtty_console_sessions_denied_total",
            "rtty_console_clients_cut_off_total",
        ] {
            #expect(body.contains("\n\(name){console=\"pbx\"} "), "\(name)")
        }
        for name in ["process_start_time_seconds", "process_open_fds", "process_max_fds", "rtty_reloads_total", "rtty_audit_syslog_dropped_total"] {
            #expect(body.contains("\n\(name) "), "\(name)")
        }
        let started = try rig.value("process_start_time_seconds")
        #expect(abs(started - Date().timeIntervalSince1970) < 60)
        #expect(try rig.value("process_open_fds") > 5)
    }

    @Test(.enabled(if: enabled)) func valuesMoveWithTheConsole() throws {
        var rig = try Rig()
        #expect(try rig.value("rtty_console_device_up") == 1)
        #expect(try rig.value("rtty_console_clients") == 0)
        let client = try ProtocolClient(socket: rig.env.socket("pbx"))
        try client.waitForNotice(containing: "authorized")
        try client.identify("metrics@pts/1")
        try client.waitForNotice(containing: " connected")
        #expect(try rig.value("rtty_console_clients") == 1)
        #expect(try rig.value("rtty_console_sessions_total") == 1)

        // Output: exactly the bytes the device printed between two scrapes.
        let before = try rig.value("rtty_console_device_read_bytes_total")
        let output = Array(repeating: Array("0123456789abcdef".utf8), count: 1000).joined() + Array("END-OF-OUTPUT".utf8)
        try rig.writeGuest(Array(output))
        try client.waitForData(containing: "END-OF-OUTPUT")
        #expect(try rig.value("rtty_console_device_read_bytes_total") - before == Double(output.count))
        #expect(try rig.value("rtty_console_output_idle_seconds") < 5)

        // Input: the bytes written to the device.
        try client.type("abc\r")
        try waitUntil(timeout: 5, "4 bytes written to the device") { try rig.value("rtty_console_device_written_bytes_total") == 4 }

        // A refused user.
        let denied = try ClientTests.rtty(
            ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltProducts.path("rtty"), "--socket-dir", rig.env.socketDir, "--timeout", "1", "pbx"],
            input: "", executable: "/usr/bin/setpriv")
        #expect(denied.stderr.contains("access denied"), "\(denied.stderr)")
        try waitUntil(timeout: 5, "a denied session in the metrics") { try rig.value("rtty_console_sessions_denied_total") == 1 }

        // Device loss and return.
        rig.line?.stop()
        try client.waitForNotice(containing: "device lost")
        #expect(try rig.value("rtty_console_device_up") == 0)
        #expect(try rig.value("rtty_console_reopens_total") == 0)
        rig.line = try Socat(Socat.ptyPair(device: rig.device, guest: rig.guest))
        try client.waitForNotice(containing: "device back", timeout: 40)
        #expect(try rig.value("rtty_console_device_up") == 1)
        #expect(try rig.value("rtty_console_reopens_total") == 1)

        client.disconnect()
        try waitUntil(timeout: 5, "no client in the metrics") { try rig.value("rtty_console_clients") == 0 }

        // A reload is counted.
        rig.daemon.signal(SIGHUP)
        try rig.daemon.waitForLog("configuration reloaded")
        #expect(try rig.value("rtty_reloads_total") == 1)
    }

    /// A console removed by a reload loses its series; one added gets them.
    @Test(.enabled(if: enabled)) func seriesFollowTheConsolesThroughReloads() throws {
        let rig = try Rig()
        func config(_ console: String) -> String {
            """
            [console.pbx]
            device = "\(rig.device)"
            group = "\(Accounts.groupName(65534) ?? "nogroup")"

            [console.\(console)]
            exec = ["/bin/sh", "-c", "echo up; exec sleep 1000"]

            [control]
            metrics = "127.0.0.1:\(rig.port)"
            """
        }
        try rig.env.writeConfig(config("spare"))
        rig.daemon.signal(SIGHUP)
        try rig.daemon.waitForLog("console spare added")
        try waitUntil(timeout: 5, "spare's output in the metrics") { try rig.values()["rtty_console_device_read_bytes_total{console=\"spare\"}"] ?? 0 > 0 }
        try rig.env.writeConfig(config("other"))
        rig.daemon.signal(SIGHUP)
        try waitUntil(timeout: 10, "the second reload's outcome") { rig.daemon.stderr.components(separatedBy: "configuration reloaded").count == 3 }
        let body = try rig.scrape().body
        #expect(!body.contains("console=\"spare\""), "\(body)")
        #expect(body.contains("rtty_console_device_up{console=\"other\"}") && body.contains("rtty_console_device_up{console=\"pbx\"} 1"))
        #expect(try rig.value("rtty_reloads_total") == 2)

        // Turned off by a reload: the port closes; on again: every console has its series.
        try rig.env.writeConfig(config("other").replacingOccurrences(of: "metrics = ", with: "# metrics = "))
        rig.daemon.signal(SIGHUP)
        try waitUntil(timeout: 10, "the third reload's outcome") { rig.daemon.stderr.components(separatedBy: "configuration reloaded").count == 4 }
        #expect(throws: HarnessError.self) { try TCPClient(port: rig.port) }
        try rig.env.writeConfig(config("other"))
        rig.daemon.signal(SIGHUP)
        try waitUntil(timeout: 10, "the fourth reload's outcome") { rig.daemon.stderr.components(separatedBy: "configuration reloaded").count == 5 }
        try waitUntil(timeout: 5, "pbx and other counted again") {
            let values = try rig.values()
            return values["rtty_console_device_up{console=\"pbx\"}"] == 1 && values["rtty_console_device_read_bytes_total{console=\"other\"}"] != nil
        }
    }

    /// A scraper is trusted with nothing: only GET /metrics answers, an over-long request
    /// and one that trickles in (slow loris) are closed without an answer, and neither
    /// keeps others from scraping.
    @Test(.enabled(if: enabled)) func hostileScrapersGetAClosedConnection() throws {
        let rig = try Rig()
        #expect(try rig.scrape("GET /other HTTP/1.1\r\nHost: x\r\n\r\n").head.hasPrefix("HTTP/1.1 404"))
        #expect(try rig.scrape("DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n").head.hasPrefix("HTTP/1.1 405"))
        let long = try TCPClient(port: rig.port)
        long.offer(Array(("GET /metrics HTTP/1.1\r\nX-Pad: " + String(repeating: "a", count: 20_000)).utf8))
        try long.waitForClose(timeout: 5)
        #expect(!String(decoding: long.received, as: UTF8.self).contains("200 OK"))
        let started = Date()
        let slow = try TCPClient(port: rig.port)
        try slow.write(Array("GET /metr".utf8))
        #expect(try rig.value("rtty_console_device_up") == 1, "others scrape while one trickles")
        // Sixteen connections at most: a seventeenth is closed at once, unanswered.
        let more = try (2...16).map { _ in try TCPClient(port: rig.port) }
        let extra = try TCPClient(port: rig.port)
        try extra.write(Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        try extra.waitForClose(timeout: 3)
        #expect(extra.received.isEmpty)
        try slow.waitForClose(timeout: 15)
        #expect(slow.received.isEmpty)
        #expect(Date().timeIntervalSince(started) >= 9, "closed at the request deadline, not before")
        for client in more { try client.waitForClose(timeout: 5) }
        #expect(try rig.value("rtty_console_device_up") == 1, "scrapes again once the slow ones are gone")
    }

    /// A Unix socket endpoint is made like the control socket: root and the admin group, 0660.
    @Test(.enabled(if: enabled)) func aUnixSocketEndpointIsRootAndAdminGroupOnly() throws {
        let path = "/tmp/rtty-metrics-\(UUID().uuidString.prefix(8)).sock"
        let rig = try Rig(metrics: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect(attributes[.posixPermissions] as? Int == 0o660)
        #expect(attributes[.ownerAccountID] as? Int == 0)
        let fd = try UnixSocket.connect(path: path)
        defer { try? fd.close() }
        _ = try Array("GET /metrics HTTP/1.0\r\n\r\n".utf8).withUnsafeBytes { try fd.write($0) }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
            if n == 0 { break }
            answer += chunk.prefix(n)
        }
        let text = String(decoding: answer, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK") && text.contains("rtty_console_device_up{console=\"pbx\"} 1"), "\(text.prefix(300))")
        _ = rig
    }
}
